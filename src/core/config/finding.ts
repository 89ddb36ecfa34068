// A problem found inside one text, located by offsets; turned into a 1-based Problem at the end.
import type { DiagnosticCode, ProblemFix, Severity } from './problem';
import type { Span } from './positions';

export interface Finding {
  span: Span;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  fix?: ProblemFix;
}

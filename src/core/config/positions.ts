// Offsets ↔ 1-based line/column for one text. Columns count UTF-16 code units, as VS Code does.

export interface Span {
  start: number;
  end: number;
}

export interface LineColumn {
  line: number;
  column: number;
}

export class TextPositions {
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
      this.lineStarts.push(index + 1);
    }
  }

  at(offset: number): LineColumn {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle]! <= clamped) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: clamped - this.lineStarts[low]! + 1 };
  }

  offsetOf(line: number, column: number): number {
    const start = this.lineStarts[Math.max(0, Math.min(line - 1, this.lineStarts.length - 1))]!;
    return Math.min(start + Math.max(0, column - 1), this.text.length);
  }

  /** A span that never ends before it starts and is at least one character wide where the text allows. */
  range(span: Span): { line: number; column: number; endLine: number; endColumn: number } {
    const start = this.at(span.start);
    const endOffset = span.end > span.start ? span.end : Math.min(span.start + 1, this.lineEnd(span.start));
    const end = this.at(Math.max(endOffset, span.start));
    return { line: start.line, column: start.column, endLine: end.line, endColumn: end.column };
  }

  private lineEnd(offset: number): number {
    const newline = this.text.indexOf('\n', offset);
    const end = newline === -1 ? this.text.length : newline;
    return this.text[end - 1] === '\r' ? end - 1 : end;
  }
}

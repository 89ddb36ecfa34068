// Splits a byte stream into JSON Lines and parses each line, whatever arrives.
// A trainer can print stray text (a library warning on stdout), cut a line across chunks,
// or write an enormous line; none of that may crash the extension host or grow memory unbounded.

import { StringDecoder } from 'node:string_decoder';

export type LineProblem = { kind: 'not-json'; line: string; error: string } | { kind: 'too-long'; bytes: number };

export interface JsonLinesHandlers {
  /** One parsed JSON value per well-formed line. */
  value(value: unknown): void;
  /** A line that was not JSON or exceeded the cap; the reader goes on with the next line. */
  problem?(problem: LineProblem): void;
}

/** 1 MiB: far above any real event (a samples event with inline thumbnails is tens of KiB). */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const SHOWN_GARBAGE_CHARS = 200;

/**
 * Splits a byte stream into lines of at most `maxLineBytes`. A longer line is reported by its size
 * and dropped while it streams past, so a runaway writer cannot grow memory.
 */
export class BoundedLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  protected pending = '';
  /** While true we are inside an over-long line and drop text up to its end. */
  private skipping = false;
  private skippedBytes = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: (bytes: number) => void,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  /** Feeds a chunk (bytes or text); complete lines are handled before this returns. */
  push(chunk: Buffer | Uint8Array | string): void {
    const textChunk = typeof chunk === 'string' ? chunk : this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    let start = 0;
    for (;;) {
      const newline = textChunk.indexOf('\n', start);
      if (newline === -1) break;
      this.finishLine(textChunk.slice(start, newline));
      start = newline + 1;
    }
    this.keepPartial(textChunk.slice(start));
  }

  /** Handles a last line without a newline (the stream ended). */
  end(): void {
    const rest = this.decoder.end();
    if (rest) this.keepPartial(rest);
    if (this.pending.length > 0 || this.skipping) this.finishLine('');
  }

  private keepPartial(text: string): void {
    if (text.length === 0) return;
    if (this.skipping) {
      this.skippedBytes += Buffer.byteLength(text);
      return;
    }
    this.pending += text;
    // Length in UTF-16 units is a cheap lower bound for bytes; measure exactly only near the cap.
    if (this.pending.length * 3 > this.maxLineBytes && Buffer.byteLength(this.pending) > this.maxLineBytes) {
      this.skipping = true;
      this.skippedBytes = Buffer.byteLength(this.pending);
      this.pending = '';
    }
  }

  private finishLine(tail: string): void {
    if (this.skipping) {
      const bytes = this.skippedBytes + Buffer.byteLength(tail);
      this.skipping = false;
      this.skippedBytes = 0;
      this.onTooLong(bytes);
      return;
    }
    const line = this.pending + tail;
    this.pending = '';
    if (Buffer.byteLength(line) > this.maxLineBytes) {
      this.onTooLong(Buffer.byteLength(line));
      return;
    }
    this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}

/** Parses one line of JSON Lines: blank lines are skipped, anything else is a value or a problem. */
export function parseJsonLine(line: string, handlers: JsonLinesHandlers): void {
  if (line.trim().length === 0) return;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    handlers.problem?.({ kind: 'not-json', line: line.slice(0, SHOWN_GARBAGE_CHARS), error: (error as Error).message });
    return;
  }
  // A handler that throws must not break the stream for the lines after it.
  try {
    handlers.value(value);
  } catch (error) {
    const message = `handler failed: ${(error as Error).message}`;
    handlers.problem?.({ kind: 'not-json', line: line.slice(0, SHOWN_GARBAGE_CHARS), error: message });
  }
}

/** JSON Lines from a byte stream: bounded line splitting, then one parsed value per line. */
export class JsonLinesReader extends BoundedLineSplitter {
  constructor(handlers: JsonLinesHandlers, maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    super(
      (line) => parseJsonLine(line, handlers),
      (bytes) => handlers.problem?.({ kind: 'too-long', bytes }),
      maxLineBytes,
    );
  }
}

/** Splits plain text (stderr, a log) into lines with the same chunk handling and cap, without JSON parsing. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineChars = 64 * 1024,
  ) {}

  push(chunk: Buffer | Uint8Array | string): void {
    const text =
      this.pending +
      (typeof chunk === 'string' ? chunk : this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
    // A line longer than the cap is emitted in pieces rather than held forever.
    while (this.pending.length > this.maxLineChars) {
      this.emit(this.pending.slice(0, this.maxLineChars));
      this.pending = this.pending.slice(this.maxLineChars);
    }
  }

  end(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest.length > 0) this.emit(rest);
  }

  private emit(line: string): void {
    this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}

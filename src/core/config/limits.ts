// Guards that keep hostile or accidental input (multi-megabyte files, alias bombs, deep nesting) from
// hanging the editor or the CLI. Real configs are a few kilobytes and a few levels deep.

/**
 * Larger texts get one diagnostic instead of a parse: the yaml parser needs 1–2 s per MB on a slow, busy
 * machine, and every file up to 5 MB must be answered within 1 s. Real configs are a few kilobytes.
 */
export const MAX_TEXT_LENGTH = 256 * 1024;
/** Flow collections nested deeper than this are refused before parsing (the parser recurses per level). */
export const MAX_FLOW_DEPTH = 256;
/** Parsed documents nested deeper than this are not schema-checked. */
export const MAX_NODE_DEPTH = 128;
/** Alias expansions allowed while converting a document to data ("billion laughs" guard). */
export const MAX_ALIAS_COUNT = 100;
/** At most this many problems are reported per file, so a broken file cannot flood the Problems panel. */
export const MAX_PROBLEMS = 500;

// The webview side of VS Code's API, typed by each view's own message and state types.

export interface VsCodeApi<Message, State> {
  postMessage(message: Message): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare function acquireVsCodeApi(): VsCodeApi<unknown, unknown>;

/** May be called once per page load (VS Code's rule), so each view calls it at the top of its script. */
export function acquireTypedVsCodeApi<Message, State>(): VsCodeApi<Message, State> {
  return acquireVsCodeApi() as VsCodeApi<Message, State>;
}

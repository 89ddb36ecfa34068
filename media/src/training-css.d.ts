// esbuild bundles CSS imported from the Training view's script into dist/webview/training.css.
declare module '*.css';

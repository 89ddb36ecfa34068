// ESLint for the TypeScript extension, webviews, tests and scripts (`npm run lint`).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-test/**',
      'node_modules/**',
      '.vscode-test/**',
      '.venv/**',
      '.sky-venv/**',
      '.*-venv/**', // every other venv (.paddle-venv, a family's own)
      'trainer/**',
      'runs/**',
      'test/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  { files: ['media/src/**'], languageOptions: { globals: { ...globals.browser } } },
  // The code-server drivers pass callbacks that run inside the workbench page (page.evaluate).
  { files: ['test/e2e/**'], languageOptions: { globals: { ...globals.browser, ...globals.node } } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // TypeScript itself reports undefined names, with the project's own lib settings.
  { files: ['**/*.ts'], rules: { 'no-undef': 'off' } },
);

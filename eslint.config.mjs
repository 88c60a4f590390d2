import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'playwright-report/**', 'test-results/**', '.e2e/**', 'bench-results/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Playwright fixtures declare what they depend on by destructuring, `{}` when nothing.
    files: ['tests/**/*.ts'],
    rules: { 'no-empty-pattern': 'off' },
  },
  {
    // njs runs inside nginx with its own JavaScript subset (njs 0.8.9 is the target).
    files: ['nginx/njs/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: { ngx: 'readonly', Buffer: 'readonly', require: 'readonly', process: 'readonly' },
    },
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ForOfStatement', message: 'for...of is a syntax error in njs 0.8.9: use an index loop.' },
        { selector: 'ClassDeclaration', message: 'keep njs to plain functions.' },
      ],
      'no-var': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);

// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'cdk.out/', 'coverage/', '.tmp/', '**/*.js', '**/*.cjs', '**/*.mjs', '**/*.d.ts'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Handlers and constructs log through Powertools; a stray console.log is a mistake.
      'no-console': ['error', { allow: ['error'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Deploy-time code shares only contracts with run-time code (lambda/contracts/: no CDK, no
    // SDK); anything else from lambda/ would be a second copy of a contract, or a bundle's code in
    // the CDK app.
    files: ['lib/**', 'stages/**', 'pipeline/**', 'bin/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+lambda/(?!contracts/)',
              message: 'lib/, stages/, pipeline/ and bin/ import from lambda/ only its contracts (lambda/contracts/).',
            },
          ],
        },
      ],
    },
  },
  {
    // Size limits of the source (tests are not counted): a file over 450 lines or a function over
    // 120 is split where it reads better.
    files: ['lib/**', 'lambda/**', 'stages/**', 'bin/**', 'pipeline/**', 'scripts/**', 'integ/**'],
    rules: {
      'max-lines': ['error', { max: 450 }],
      'max-lines-per-function': ['error', { max: 120 }],
    },
  },
  {
    // Contracts are imported by the CDK app and bundled into every handler: no CDK, no SDK.
    files: ['lambda/contracts/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', '@aws-sdk/*', '@smithy/*', '@aws-lambda-powertools/*'],
              message: 'lambda/contracts/ holds no CDK and no SDK code.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests walk synthesized CloudFormation templates: untyped JSON, where `any` is the honest type.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Command-line entry points print their results for the operator.
    files: ['bin/**', 'scripts/**', 'integ/**'],
    rules: { 'no-console': 'off' },
  },
);

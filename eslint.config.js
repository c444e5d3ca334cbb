// Lint rules for src/ and test/ (npm run lint). The import direction between the folders of
// src/ (the architecture: cli → apply → compose/planner/engine/supervisor/network/images/state →
// sys → common) is expressed here, one no-restricted-imports block per folder.
import tseslint from 'typescript-eslint';
import js from '@eslint/js';

export const LAYERS = {
  common: [],
  sys: ['common'],
  compose: ['common'],
  planner: ['common'],
  state: ['common', 'sys'],
  images: ['common', 'sys'],
  network: ['common', 'sys'],
  engine: ['common', 'sys'],
  supervisor: ['common', 'sys', 'engine', 'network'],
  build: ['common', 'sys', 'images', 'engine', 'network'],
  apply: ['common', 'sys', 'compose', 'planner', 'state', 'images', 'network', 'engine', 'supervisor', 'build'],
  cli: ['common', 'sys', 'compose', 'planner', 'state', 'images', 'network', 'engine', 'supervisor', 'build', 'apply'],
};

const NODE_GLOBALS = Object.fromEntries(
  ['process', 'console', 'Buffer', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'URL', 'fetch', 'performance'].map((g) => [g, 'readonly']),
);

const layerRules = Object.entries(LAYERS).map(([folder, allowed]) => {
  const forbidden = Object.keys(LAYERS).filter((f) => f !== folder && !allowed.includes(f));
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbidden.map((f) => ({
            group: [`**/${f}/*`, `../${f}`, `../../${f}`],
            message: `src/${folder} may import only ${allowed.length ? allowed.join(', ') : 'nothing of src/'} (docs/ARCHITECTURE.md)`,
          })),
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // tests may poke at untyped JSON
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: NODE_GLOBALS,
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...NODE_GLOBALS, require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...layerRules,
);

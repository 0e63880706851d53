import type { CodegenConfig } from '@graphql-codegen/cli';

// Types for the operations in src/, from the schema Rapport publishes at the
// repository's root (printed from the running server by `go generate`).
const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  // Imports with .js extensions, as Node's ES modules need.
  emitLegacyCommonJSImports: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      config: {
        // Documents as typed strings: the portal posts them with fetch and
        // needs no GraphQL client library at run time.
        documentMode: 'string',
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
      },
    },
  },
};

export default config;

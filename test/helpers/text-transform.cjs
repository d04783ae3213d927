// Jest transform: a .sql file becomes a module whose default export is its text, as esbuild's
// text loader does for the Lambda bundles.
module.exports = {
  process(sourceText) {
    return { code: `module.exports = ${JSON.stringify(sourceText)};` };
  },
};

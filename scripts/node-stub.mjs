// An esbuild plugin for browser bundles: every `node:` import (the engine's file-system helpers — checkpoints,
// run folders — which browser code never calls) becomes a module whose exports throw when called, naming
// what is unavailable. Shared by the demo build and the library's browser entry.
export const nodeStub = {
  name: 'node-stub',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, async (args) => {
      const mod = await import(args.path);
      const names = Object.keys(mod).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
      const body = names.map((n) => `export const ${n} = () => { throw new Error(${JSON.stringify(`${args.path}.${n} is not available in the browser`)}); };`);
      return { contents: `${body.join('\n')}\nexport default {};\n`, loader: 'js' };
    });
  },
};

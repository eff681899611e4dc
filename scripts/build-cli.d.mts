/** See build-cli.mjs. */
export declare function buildCliBundle(): Promise<void>;

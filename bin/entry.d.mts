// Types of bin/entry.mjs (plain JavaScript so that it runs before anything compiles TypeScript).
export declare const STAMP_FILE: string;
export declare const BUILD_CONFIG_FILES: string[];
export declare function newestSourceMtime(root: string): number | undefined;
export declare function readBuildStamp(root: string): number | undefined;
export declare function chooseEntry(input: {
  forceDist: boolean;
  stampMtimeMs: number | undefined;
  sourcesMtimeMs: number | undefined;
}): { entry: 'dist' | 'tsx'; warning?: string };

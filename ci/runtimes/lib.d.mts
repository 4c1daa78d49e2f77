// Types of lib.mjs for the TypeScript that imports it (bench/portable.bench.ts).
export const HERE: string;
export const ROOT: string;
export const TMP: string;
export const DENO: string;
export const BUN: string;
export const CHROMIUM: string;
export const CHROMIUM_FLAGS: string[];
export const ENV: Record<string, string | undefined>;
export function exec(cmd: string, args: string[], opts?: { env?: Record<string, string | undefined>; cwd?: string; timeout?: number; echo?: boolean }): Promise<{ code: number; out: string }>;
export function install(): Promise<void>;
export function serve(dir: string, script: string): Promise<{ origin: string; close(): void }>;
export function inChromium(url: string, key: string, timeout?: number): Promise<any>;
export function bundleForBrowser(entry: string, outfile: string): Promise<void>;

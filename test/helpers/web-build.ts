import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WEB_DIST } from '../../src/web/routes.js';

/**
 * Builds the web app when web/dist has no build or its sources changed since
 * (web/build.mjs --if-stale), so the tests never run against an old build.
 */
export function ensureWebBuild(): string {
  execFileSync(process.execPath, [fileOf('../../web/build.mjs'), '--if-stale'], { stdio: 'inherit' });
  return WEB_DIST;
}

export function viteManifestPath(): string {
  return path.join(WEB_DIST, '.vite', 'manifest.json');
}

function fileOf(relative: string): string {
  return new URL(relative, import.meta.url).pathname;
}

export interface ManifestChunk {
  file: string;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
  isEntry?: boolean;
}

/** Vite's build manifest: which files each chunk needs. */
export function readManifest(): Record<string, ManifestChunk> {
  return JSON.parse(fs.readFileSync(viteManifestPath(), 'utf8')) as Record<string, ManifestChunk>;
}

/** The files a browser loads for `keys` (chunks and their static imports, with their CSS), each once. */
export function filesLoadedFor(manifest: Record<string, ManifestChunk>, keys: readonly string[]): string[] {
  const seen = new Set<string>();
  const files = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    const chunk = manifest[key];
    if (!chunk) throw new Error(`no chunk ${key} in the Vite manifest`);
    files.add(chunk.file);
    for (const css of chunk.css ?? []) files.add(css);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  for (const key of keys) visit(key);
  return [...files];
}

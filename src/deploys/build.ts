import { createRequire } from 'node:module';

/** The build an instance runs: what a deploy shipped, so operators and the rolling deploy can tell versions apart. */
export interface BuildInfo {
  /** The release version (package version, or what the image was built as). */
  readonly version: string;
  /** The git commit the image was built from, or "unknown" outside an image. */
  readonly commit: string;
}

/** The version in package.json, the one place it is written. */
export const PACKAGE_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Read from ENTITLE_BUILD_VERSION and ENTITLE_BUILD_COMMIT, which the image sets from its build arguments. */
export function buildInfo(env: Readonly<Record<string, string | undefined>> = process.env): BuildInfo {
  return { version: env.ENTITLE_BUILD_VERSION || PACKAGE_VERSION, commit: env.ENTITLE_BUILD_COMMIT || 'unknown' };
}

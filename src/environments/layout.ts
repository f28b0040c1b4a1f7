/** The environments a release is promoted through, in order. */
export const ENVIRONMENTS = ['development', 'staging', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Where the manifests live and which overlays there are: read without loading the typed models. */
export const K8S_DIR = 'deploy/k8s';
export const OVERLAYS = ['dev', 'staging', 'production'] as const;
export type Overlay = (typeof OVERLAYS)[number];

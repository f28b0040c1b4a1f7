/** Where the manifests live and which overlays there are: read without loading the typed models. */
export const K8S_DIR = 'deploy/k8s';
export const OVERLAYS = ['dev', 'staging', 'production'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/**
 * Which kube-apiserver the sim answers as. The default is v1.28 (what kOps and Flatcar stable
 * clusters run, recorded in shared/k8s-golden/v1.28); v1.20 (the top-level recordings) keeps the
 * clients' pre-1.22 fallbacks provable: policy/v1beta1 only, no policy/v1 in discovery.
 * Behaviour both recordings share (Lease validation, eviction preconditions, NodeRestriction)
 * is not switched here: it was the same code on both servers.
 */
export type KubeVersion = "1.28" | "1.20";

export const KUBE_VERSIONS: readonly KubeVersion[] = ["1.28", "1.20"];

export interface VersionProfile {
  version: KubeVersion;
  /** What /version answers. */
  info: Record<string, string>;
  /** Versions served per API group where the two servers differ; other groups serve all they know. */
  served: Record<string, string[]>;
  /** Group versions an Eviction body may name (the subresource decodes both on 1.28). */
  evictionBodyVersions: string[];
  /** Discovery fills `singularName` (1.27+). */
  singularNames: boolean;
  /** PodDisruptionBudget storageVersionHash: v1 storage since 1.25. */
  pdbStorageHash: string;
  /** NamespaceDefaultLabelName (1.21+): every Namespace carries kubernetes.io/metadata.name. */
  namespaceNameLabel: boolean;
  /** Server-side field validation (1.27 GA): Warning headers for dropped fields, 400 under Strict. */
  fieldValidation: boolean;
  /** "still being processed" 429 carries Retry-After: 10 and details.retryAfterSeconds (1.26+). */
  retryAfterUnobservedPdb: boolean;
  /** PodDisruptionConditions (1.26 beta, on): evicted pods get the DisruptionTarget condition. */
  disruptionTarget: boolean;
  /** The apiserver flips the PDB's DisruptionAllowed condition when its decrement reaches 0 (1.21+). */
  pdbConditionOnDecrement: boolean;
  /** events.k8s.io Events about cluster-scoped objects are accepted in `default` too (1.22+). */
  clusterEventsInDefault: boolean;
  /** Decode errors name the Go field path (json-iterator, before 1.24's sigs.k8s.io/json). */
  jsonIterDecodeErrors: boolean;
  /** TokenRequest answers carry metadata name, namespace and creationTimestamp. */
  tokenRequestMeta: boolean;
  /** An empty PDB selector matches every pod in the namespace (policy/v1); in v1beta1 none. */
  emptySelectorMatchesAll: boolean;
}

const v128: VersionProfile = {
  version: "1.28",
  info: { major: "1", minor: "28", gitVersion: "v1.28.7-sluice-sim", gitCommit: "", gitTreeState: "clean", buildDate: "", goVersion: "", compiler: "gc", platform: "linux/amd64" },
  served: { policy: ["v1"], "events.k8s.io": ["v1"] },
  evictionBodyVersions: ["policy/v1", "policy/v1beta1"],
  singularNames: true,
  pdbStorageHash: "EVWiDmWqyJw=",
  namespaceNameLabel: true,
  fieldValidation: true,
  retryAfterUnobservedPdb: true,
  disruptionTarget: true,
  pdbConditionOnDecrement: true,
  clusterEventsInDefault: true,
  jsonIterDecodeErrors: false,
  tokenRequestMeta: true,
  emptySelectorMatchesAll: true,
};

const v120: VersionProfile = {
  version: "1.20",
  info: { major: "1", minor: "20", gitVersion: "v1.20.2-sluice-sim", gitCommit: "", gitTreeState: "clean", buildDate: "", goVersion: "", compiler: "gc", platform: "linux/amd64" },
  served: { policy: ["v1beta1"], "events.k8s.io": ["v1", "v1beta1"] },
  evictionBodyVersions: ["policy/v1beta1"],
  singularNames: false,
  pdbStorageHash: "6BGBu0kpHtk=",
  namespaceNameLabel: false,
  fieldValidation: false,
  retryAfterUnobservedPdb: false,
  disruptionTarget: false,
  pdbConditionOnDecrement: false,
  clusterEventsInDefault: false,
  jsonIterDecodeErrors: true,
  tokenRequestMeta: false,
  emptySelectorMatchesAll: false,
};

export function versionProfile(version: KubeVersion = "1.28"): VersionProfile {
  return version === "1.20" ? v120 : v128;
}

/** Is `group/version` served by this server (for a resource that knows `known` versions)? */
export function isServed(profile: VersionProfile, group: string, version: string): boolean {
  const only = profile.served[group];
  return only === undefined || only.includes(version);
}

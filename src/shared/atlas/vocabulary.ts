/** Atlas identifiers and states: the vocabulary shared by the client, the workflow contract and the simulator. */
import { z } from 'zod';

/** 24 lowercase hex characters: Atlas group (project), snapshot, export bucket and export job ids. */
export const ATLAS_ID_PATTERN = /^[a-f0-9]{24}$/;
/** Atlas cluster names. */
export const CLUSTER_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9-]*$/;

export const atlasIdSchema = z.string().regex(ATLAS_ID_PATTERN, 'must be 24 lowercase hex characters (an Atlas id)');
export const clusterNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(CLUSTER_NAME_PATTERN, 'must start with a letter or digit and contain only letters, digits and hyphens');

/** Export job states Atlas documents; `state` itself stays an open string. */
export const EXPORT_JOB_STATES = ['Queued', 'InProgress', 'Successful', 'Failed', 'Cancelled'] as const;
export type KnownExportJobState = (typeof EXPORT_JOB_STATES)[number];
/** States after which a job never changes. */
export const TERMINAL_EXPORT_JOB_STATES: ReadonlySet<string> = new Set(['Successful', 'Failed', 'Cancelled']);

// The public API of the hourglass package ('hourglass'; docs/library.md): the estimator, models (bundled, loading,
// saving, building), the heatmap codec, the crop geometry, skeletons, metrics, backends, the job queue and the errors.
// The building blocks beneath them (parameter store, model ops, checkpoint internals, the loss, ...) are the separate
// entry 'hourglass/internals' (src/internals.ts): usable, but not promised to stay as they are.
export { tf } from './tf.js';
// src/errors.ts holds only the error classes, every one of which a public function can throw.
export * from './errors.js';

// Poses from images.
export {
  createEstimator, DEFAULT_MODEL_PATH, type Estimator, type EstimatorOptions, type EstimateOptions, type ImageInput, type RawImage,
  type Box, type Keypoint, type Pose, type Person, type BoxInput, type ScoredBoxInput,
} from './api/estimator.js';
export { renderOverlay, overlaySvg } from './api/overlay.js';

// Models: the bundled ones, checkpoints, building a network, TF.js export.
export {
  BUNDLED_MODELS, PERSON_DETECTOR, bundledModelFor, resolveModelPath, loadPoseNetwork, type BundledModel, type BundledNetwork, type BundledEnsemble,
} from './api/models.js';
export { Ensemble, type PoseNetwork } from './inference/ensemble.js';
export { loadModel, saveModel, readCheckpoint, modelFromCheckpoint, type Checkpoint, type Precision } from './model/checkpoint.js';
export { averageCheckpoints } from './model/average.js';
export { initialiseFrom, type InitReport } from './model/init.js';
export { HourglassModel } from './model/model.js';
export { makeConfig, heatmapSize, DEFAULT_CONFIG, type HourglassConfig } from './model/config.js';
export { exportTfjs, loadTfjsExport, type TfjsExportOptions, type TfjsExportResult } from './export/tfjs.js';

// The heatmap codec and the crop geometry.
export { HeatmapCodec, type CodecOptions, type EncodedTargets, type DecodedJoints } from './codec/heatmap.js';
export { decodeBatch, flipHeatmaps } from './codec/tensors.js';
export {
  cropTransform, invertAffine, transformPoints, flipPoints, warpImage, type Affine, type Crop, type RasterImage, type Size,
} from './geometry/affine.js';

// Skeletons.
export { LSP14 } from './data/skeletons/lsp.js';
export { MPII16 } from './data/skeletons/mpii.js';
export { FLIC11 } from './data/skeletons/flic.js';
export { COCO17 } from './data/skeletons/coco.js';
export { flipPermutation, jointIndex, type Skeleton } from './data/skeletons/types.js';
export { BUILTIN_SKELETONS, parseSkeleton, skeletonForModel } from './data/skeletons/index.js';

// Metrics.
export { pck, pckh, pckLsp, summarize, type PckInput, type PckResult, type PckSummary } from './eval/pck.js';

// Backends and compute precision.
export { useBackend, type BackendName, type BackendRequest, type BackendChoice } from './backend/select.js';
export type { Precision as ComputePrecision, PrecisionRequest } from './backend/precision.js';

// The job queue (docs/queue.md).
export { enqueue, type EnqueueOptions, type EnqueueReport, type EnqueuedJob } from './queue/enqueue.js';
export { runWorker, type WorkerOptions, type RunningWorker, type WorkerEvent, type WorkerStats, type JobResult } from './queue/worker.js';
export { queueStatus, type QueueStatus, type QueueCounts, type FailedJob, type StatusOptions } from './queue/status.js';

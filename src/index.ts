// Public API of the hourglass package.
export { tf } from './tf.js';
export * from './errors.js';
export { makeConfig, heatmapSize, DEFAULT_CONFIG, type HourglassConfig } from './model/config.js';
export { StackedHourglass, Hourglass } from './model/network.js';
export { HourglassModel } from './model/model.js';
export { ParamStore, type ParamSpec } from './model/params.js';
export { registerModelOps, type ModelOps, type BatchNormTrainResult } from './model/ops.js';
export { exportTfjs, toLayersModel, loadTfjsExport, type TfjsExportOptions, type TfjsExportResult } from './export/tfjs.js';
export { saveCheckpoint, readCheckpoint, saveModel, loadModel, modelFromCheckpoint, assignWeights, type Checkpoint, type StoredTensor, type Precision } from './model/checkpoint.js';
export { averageCheckpoints } from './model/average.js';
export { initialiseFrom, type InitReport } from './model/init.js';
export { HeatmapCodec, type CodecOptions, type EncodedTargets, type DecodedJoints } from './codec/heatmap.js';
export { decodeBatch, flipHeatmaps } from './codec/tensors.js';
export * from './geometry/affine.js';
export { pck, pckh, pckLsp, summarize, jointDistances, headSizeFromBox, type PckInput, type PckResult, type PckSummary } from './eval/pck.js';
export { LSP14, LSP_TORSO } from './data/skeletons/lsp.js';
export { MPII16 } from './data/skeletons/mpii.js';
export { FLIC11 } from './data/skeletons/flic.js';
export { COCO17 } from './data/skeletons/coco.js';
export { flipPermutation, jointIndex, type Skeleton } from './data/skeletons/types.js';
export { useBackend, parseBackendName, BACKEND_NAMES, type BackendName, type BackendRequest, type BackendChoice } from './backend/select.js';
export { usePrecision, parsePrecision, PRECISIONS, type Precision as ComputePrecision, type PrecisionRequest } from './backend/precision.js';
export { heatmapLoss } from './train/loss.js';
export {
  createEstimator, DEFAULT_MODEL_PATH, type Estimator, type EstimatorOptions, type EstimateOptions, type ImageInput, type RawImage,
  type Box, type Keypoint, type Pose, type Person, type BoxInput, type ScoredBoxInput,
} from './api/estimator.js';
export { BUNDLED_MODELS, PERSON_DETECTOR, bundledModelFor, resolveModelPath, type BundledModel } from './api/models.js';
export { renderOverlay, overlaySvg } from './api/overlay.js';
export { BUILTIN_SKELETONS, parseSkeleton, skeletonForModel } from './data/skeletons/index.js';
export { predictImage, writePrediction, predictionResult, type PredictResult, type Prediction } from './api/prediction.js';
export { enqueue, type EnqueueOptions, type EnqueueReport, type EnqueuedJob } from './queue/enqueue.js';
export { runWorker, type WorkerOptions, type RunningWorker, type WorkerEvent, type WorkerStats, type JobResult } from './queue/worker.js';
export { queueStatus, type QueueStatus, type QueueCounts, type FailedJob, type StatusOptions } from './queue/status.js';
export { parseQueueUrl, type QueueAddress } from './queue/url.js';

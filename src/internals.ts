// The package's second entry, 'hourglass/internals' (docs/library.md "Two entries"): the building blocks beneath the
// public API of src/index.ts, for code that extends the package (a backend's fused ops, a training loop of its own,
// tools over checkpoints). They may change between versions without notice; the main entry is what is promised.
export { StackedHourglass, Hourglass } from './model/network.js';
export { ParamStore, type ParamSpec } from './model/params.js';
export { registerModelOps, type ModelOps, type BatchNormTrainResult } from './model/ops.js';
export { saveCheckpoint, assignWeights, type StoredTensor } from './model/checkpoint.js';
export { toLayersModel } from './export/tfjs.js';
export { heatmapLoss } from './train/loss.js';
export { composeAffine } from './geometry/affine.js';
export { cropForBox, keypointsInBox, type InferenceOptions } from './inference/person.js';
export { predictCrops, type CropBatch, type BatchPrediction } from './inference/crops.js';
export { inferHeatmaps, type HeatmapModel } from './inference/heatmaps.js';
export { otherScales, parseScales, toReferenceFrame, MAX_SCALES } from './inference/multi-scale.js';
export { jointDistances, headSizeFromBox } from './eval/pck.js';
export { LSP_TORSO } from './data/skeletons/lsp.js';
export { parseBackendName, BACKEND_NAMES } from './backend/select.js';
export { usePrecision, parsePrecision, PRECISIONS } from './backend/precision.js';
export { predictImage, writePrediction, predictionResult, type PredictResult, type Prediction } from './api/prediction.js';
export { parseQueueUrl, type QueueAddress } from './queue/url.js';

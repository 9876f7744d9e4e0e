// The native inference plan of a configuration as text, one line per op in run order: kind, layer, source (+ the
// buffer it accumulates onto) > destination buffer, destination shape and layout, and a convolution's kernel, stride
// and fusions. tests/fixtures/native-plan/ holds the listings the plan builder produced before the network's
// definition was shared with it (issue 19); native-plan.test.ts compares against them.
import { HourglassModel } from '../../src/model/model.js';
import { FoldedParams } from '../../src/model/fold.js';
import type { HourglassConfig } from '../../src/model/config.js';
import { Layout, recordPlan, type PlanLayout } from '../../src/backend/native/plan.js';

export interface ListingCase {
  /** The fixture's file name, without .txt. */
  readonly name: string;
  readonly config: Partial<HourglassConfig>;
  readonly batch: number;
  readonly layout: PlanLayout;
}

const BLOCKED16: PlanLayout = { layout: Layout.Blocked, block: 16, winograd: true, threads: 'measured' };

export const LISTING_CASES: readonly ListingCase[] = [
  { name: 'small-blocked16', config: { stacks: 1, features: 128, inputSize: 128, joints: 16 }, batch: 1, layout: BLOCKED16 },
  { name: 'small-nhwc', config: { stacks: 1, features: 128, inputSize: 128, joints: 16 }, batch: 1, layout: { layout: Layout.Nhwc, block: 16, winograd: false, threads: 'measured' } },
  { name: 'paper2-blocked16', config: { stacks: 2, features: 256, inputSize: 256, joints: 16 }, batch: 1, layout: BLOCKED16 },
  {
    name: 'stacks3-modules2-blocked8', config: { stacks: 3, modules: 2, depth: 2, features: 48, inputSize: 64, joints: 5 }, batch: 2,
    layout: { layout: Layout.Blocked, block: 8, winograd: true, threads: 'measured' },
  },
];

const KINDS = ['conv', 'bnrelu', 'maxpool', 'upsampleadd', 'copy', 'reorder'];

/** The listing of one case (a fresh seeded model; the weights do not enter it, only which layer each op runs). */
export function planListing(c: ListingCase): string {
  const model = HourglassModel.create(c.config, 1);
  const folded = FoldedParams.fold(model.network, model.params);
  try {
    const plan = recordPlan(model.network, model.params, folded, c.batch, c.layout);
    const lines = plan.ops.map((op) => {
      const buffer = (v: number) => String(plan.bufferOf[v]);
      const { c: ch, h, w, layout } = plan.values[op.dst];
      const f = op.fields;
      const conv = op.kind === 0
        ? ` k${String(f.kernel)}s${String(f.stride)}${f.relu ? ' relu' : ''}${f.accumulate ? ' sum' : ''}${f.winograd ? ' winograd' : ''}`
        : '';
      const into = op.into === undefined ? '' : `+${buffer(op.into)}`;
      return `${KINDS[op.kind]} ${op.label || '-'} ${buffer(op.src)}${into}>${buffer(op.dst)} ${ch}x${h}x${w}/${layout}${conv}`;
    });
    return [`buffers ${plan.buffers.join(',')}`, `output ${plan.bufferOf[plan.output]}`, ...lines].join('\n') + '\n';
  } finally {
    folded.dispose();
    model.dispose();
  }
}

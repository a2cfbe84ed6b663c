import { describe, expect, it } from 'vitest';
import { syntheticStepsFor } from './pipeline';

describe('syntheticStepsFor (the VLMs\' synthetic schedule when vlm.syntheticSteps is not set)', () => {
  it('should mix synthetic pairs into half of the steps with all human data and into more as human data shrinks', () => {
    expect(syntheticStepsFor(1500, 1)).toBe(750); // the demo's default, as in @synth2/vlm's demoVlmConfig
    expect(syntheticStepsFor(3000, 1)).toBe(1500); // follows --vlm.steps
    expect(syntheticStepsFor(1500, 0.75)).toBe(1000);
    expect(syntheticStepsFor(1500, 0.5)).toBe(1500);
    expect(syntheticStepsFor(1500, 0.25)).toBe(1500); // every step
  });
});

// README: "Progress goes to stderr (a bar on a terminal, plain lines otherwise)". The same steps reported to a
// terminal and to a file: a redrawn bar (carriage return, erase to the end of the line, one newline at the
// epoch's end) against one plain line per tenth of the epoch.
import { describe, expect, it } from 'vitest';
import { Progress } from '../src/cli/progress.ts';

function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = { isTTY, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

describe('Progress', () => {
  it('draws a bar on a terminal, redrawn in place, ending the line with the epoch', () => {
    const t = sink(true);
    const p = new Progress(t.stream, 2);
    p.beginEpoch();
    for (let s = 1; s <= 4; s++) p.step(1, s, 4, 0.5);
    const frames = t.text().split('\r').slice(1);
    expect(frames).toHaveLength(4);
    expect(frames[0]).toMatch(/^\[######\.{18}\] epoch 1\/2 step 1\/4 loss 0\.5000 – it\/s ETA \?\x1b\[K$/);
    expect(frames[1]).toMatch(/^\[#{12}\.{12}\] epoch 1\/2 step 2\/4 loss 0\.5000 [\d.]+ it\/s ETA [\d.]+s\x1b\[K$/);
    expect(frames[3]).toMatch(/^\[#{24}\] epoch 1\/2 step 4\/4 .*\x1b\[K\n$/);
    expect(t.text().split('\n')).toHaveLength(2); // one newline, at the epoch's end
  });

  it('writes plain lines elsewhere: one per tenth of the epoch, no control characters', () => {
    const t = sink(false);
    const p = new Progress(t.stream, 1);
    p.beginEpoch();
    for (let s = 1; s <= 100; s++) p.step(1, s, 100, 0.25);
    const lines = t.text().trim().split('\n');
    expect(lines.map((l) => Number(/step (\d+)\/100/.exec(l)![1]))).toEqual([1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(t.text()).not.toMatch(/[\r\x1b]/);
  });
});

import { DataFrameJSON, StreamingDataFrame, StreamingFrameAction } from '@grafana/data';

import { LIVE_PATH, liveBufferOptions, liveMinutes } from './datasource';
// Frames the real backend pushed from ClickHouse, in the order a subscriber received them, and ClickHouse's
// own sums over the last window: written by `go test -run TestStreamCounts ./plugin/pkg/plugin/`.
import fixture from './testdata/live-stream.json';

const messages = fixture.messages as unknown as DataFrameJSON[];

function total(frame: StreamingDataFrame, name: string): number {
  const field = frame.fields.find((f) => f.name === name);
  return (field?.values ?? []).reduce((a: number, v: number) => a + v, 0);
}

/** Runs the frames through Grafana's own streaming buffer, as the Live panel does. */
function buffer(options: Parameters<typeof StreamingDataFrame.fromDataFrameJSON>[1]): StreamingDataFrame {
  const [first, ...rest] = messages;
  const frame = StreamingDataFrame.fromDataFrameJSON(first, options);
  for (const m of rest) {
    frame.push(m);
  }
  return frame;
}

describe('live counts through the frontend buffer', () => {
  it('the fixture holds several pushes: new and late rows, a minute rolling out, a quiet spell', () => {
    expect(messages.length).toBeGreaterThanOrEqual(6);
    expect(fixture.path).toBe(`${LIVE_PATH}/3`);
  });

  it('ends holding exactly what ClickHouse counts in the window (the legend sum)', () => {
    const frame = buffer(liveBufferOptions());
    expect(total(frame, 'incidents')).toBe(fixture.clickhouse.incidents);
    expect(total(frame, 'voices')).toBe(fixture.clickhouse.voices);
    expect(frame.length).toBe(messages[messages.length - 1].data!.values[0].length);
  });

  it('a window that empties leaves none of the old rows behind', () => {
    const quiet = messages.findIndex((m) => m.data!.values[1].length === 1 && m.data!.values[1][0] === '');
    expect(quiet).toBeGreaterThan(1);
    const frame = StreamingDataFrame.fromDataFrameJSON(messages[0], liveBufferOptions());
    for (const m of messages.slice(1, quiet + 1)) {
      frame.push(m);
    }
    expect(frame.length).toBe(1);
    expect(total(frame, 'incidents') + total(frame, 'voices')).toBe(0);
  });

  it('appending the same frames would count re-sent minutes again', () => {
    const frame = buffer({ maxLength: 10000, action: StreamingFrameAction.Append });
    expect(total(frame, 'incidents')).toBeGreaterThan(fixture.clickhouse.incidents);
  });

  it('asks for the dashboard range in whole minutes, within what the backend serves', () => {
    expect(liveMinutes(0, 3 * 60_000)).toBe(3);
    expect(liveMinutes(0, 3 * 60_000 + 1)).toBe(4);
    expect(liveMinutes(0, 30 * 24 * 3600_000)).toBe(24 * 60);
    expect(liveMinutes(undefined, undefined)).toBe(60);
  });
});

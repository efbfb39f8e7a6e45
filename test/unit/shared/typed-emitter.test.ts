import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../../src-main/shared/typed-emitter.ts';

type Ev = { tick: number };

describe('TypedEmitter', () => {
  it('isolates listeners: a throwing one is reported, the rest run, emit does not throw', () => {
    const errors: [string, unknown][] = [];
    const em = new TypedEmitter<Ev>({ onListenerError: (event, err) => errors.push([event, err]) });
    const seen: number[] = [];
    em.on('tick', () => {
      throw new Error('first');
    });
    em.on('tick', (n) => seen.push(n));
    expect(() => em.emit('tick', 1)).not.toThrow();
    expect(seen).toEqual([1]);
    expect(errors.map(([e, err]) => [e, (err as Error).message])).toEqual([['tick', 'first']]);
  });

  it('reports a listener whose promise rejects', async () => {
    const errors: unknown[] = [];
    const em = new TypedEmitter<Ev>({ onListenerError: (_e, err) => errors.push(err) });
    em.on('tick', async () => {
      await Promise.resolve();
      throw new Error('later');
    });
    em.emit('tick', 1);
    await new Promise((r) => setImmediate(r));
    expect((errors[0] as Error).message).toBe('later');
  });

  it('survives an error sink that throws', () => {
    const em = new TypedEmitter<Ev>({
      onListenerError: () => {
        throw new Error('sink');
      },
    });
    const seen: number[] = [];
    em.on('tick', () => {
      throw new Error('x');
    });
    em.on('tick', (n) => seen.push(n));
    expect(() => em.emit('tick', 2)).not.toThrow();
    expect(seen).toEqual([2]);
  });

  it('unsubscribes, and a change during emit applies from the next emit', () => {
    const em = new TypedEmitter<Ev>();
    const seen: string[] = [];
    let offB = () => {};
    em.on('tick', () => {
      seen.push('a');
      offB();
    });
    offB = em.on('tick', () => seen.push('b'));
    em.emit('tick', 1);
    em.emit('tick', 2);
    expect(seen).toEqual(['a', 'b', 'a']);
    expect(em.listenerCount('tick')).toBe(1);
  });
});

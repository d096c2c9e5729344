import { describe, expect, it } from 'vitest';
import type { Replica } from '../../src/adapters/runtime/model-runtime.js';
import { shadowKeeper, sweepStrayShadows } from '../../src/activities/shadow-sweep.js';

function shadow(id: string, keeper: string | null): Replica {
  return {
    id,
    model: 'arrests',
    version: id,
    role: 'shadow',
    image: 'i',
    endpoint: `unix:/run/${id}.sock`,
    index: 0,
    host: 'unix:///var/run/docker.sock',
    keeper,
  };
}

describe('sweeping stray shadow containers', () => {
  it('removes those whose release no longer runs, on this queue only, asking once per release', async () => {
    const containers = [
      shadow('crashed', shadowKeeper('arrests', 'v1', 'paved')),
      shadow('crashed-twin', shadowKeeper('arrests', 'v1', 'paved')),
      shadow('measuring', shadowKeeper('arrests', 'v2', 'paved')),
      shadow('other-installation', shadowKeeper('arrests', 'v1', 'team-b')),
      shadow('from-before-keepers', null),
    ];
    const asked: string[] = [];
    const stopped: string[] = [];
    const removed = await sweepStrayShadows({
      runtime: {
        list: async (model, role) => (model === 'arrests' && role === 'shadow' ? containers : []),
        stop: async (id) => void stopped.push(id),
      },
      releaseRunning: async (id) => {
        asked.push(id);
        return id === 'release/arrests/v2';
      },
      model: 'arrests',
      taskQueue: 'paved',
    });
    expect(removed).toEqual(['crashed', 'crashed-twin']);
    expect(stopped).toEqual(removed);
    expect(asked).toEqual(['release/arrests/v1', 'release/arrests/v2']);
  });

  it('names the release and the queue in the keeper', () => {
    expect(shadowKeeper('arrests', '1.4.0', 'paved')).toBe('release/arrests/1.4.0@paved');
  });
});

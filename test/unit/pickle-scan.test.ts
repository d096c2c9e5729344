import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PickleScanResult } from '../../src/domain/pickle-scan.js';
import { isPickleSafe, scanPickle as scanWith } from '../../src/domain/pickle-scan.js';
import { DEFAULT_POLICY_PATH, loadPolicy } from '../../src/adapters/policy-loader.js';

/** The shipped policy's exact-name allow-list. */
const ALLOW = loadPolicy(DEFAULT_POLICY_PATH).allowed_types;
const scanPickle = (data: Uint8Array, allow: readonly string[] = ALLOW) => scanWith(data, allow);

/*
 * Fixtures were generated once with the ML venv (.paved/ml-venv: joblib 1.6.0, numpy 2.4.6,
 * scikit-learn 1.9.1, CPython 3.11) and are embedded as base64 so this test stays pure:
 *
 *   import pickle, io, os, subprocess, numpy as np, joblib
 *   from sklearn.linear_model import LogisticRegression
 *   from sklearn.preprocessing import StandardScaler
 *   from sklearn.pipeline import make_pipeline
 *   rng = np.random.RandomState(0); X = rng.randn(20, 3); y = (X[:, 0] > 0).astype(int)
 *   model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
 *   small = LogisticRegression().fit(X, y)
 *   def jdump(obj, **kw):   # a BytesIO supports tell(), so joblib writes alignment padding
 *       b = io.BytesIO(); joblib.dump(obj, b, **kw); return b.getvalue()
 *   arrays = {'model': model,
 *     'f64': np.arange(5, dtype='f8'), 'i64': np.arange(7, dtype='i8'), 'bool': np.array([True, False, True]),
 *     'f32F': np.asfortranarray(np.ones((3, 2), dtype='f4')), 'empty': np.zeros((0, 4), dtype='u1'),
 *     'scalar0d': np.array(3.5), 'bigend': np.arange(3, dtype='>i4'), 'u5': np.array(['ab', 'cde']),
 *     'bytes': np.array([b'x', b'yz']), 'dt': np.array(['2020-01-01'], dtype='M8[D]'), 'c16': np.ones(2, dtype='c16')}
 *   joblib_arrays_p4 = jdump(arrays)                       # default protocol 4
 *   joblib_arrays_p2 = jdump(arrays, protocol=2)
 *   joblib_arrays_p0 = jdump({k: arrays[k] for k in ('f64', 'i64', 'bool')}, protocol=0)
 *   joblib_objarray = jdump({'o': np.array(['a', 1, None, {'k': 2.5}], dtype=object), 'after': np.arange(3, dtype='i8')})
 *   class Evil:
 *       def __reduce__(self): return (os.system, ('echo pwned',))
 *   joblib_objarray_evil = jdump({'o': np.array([Evil()], dtype=object)})
 *   pickle_pN = pickle.dumps(small, protocol=N)            # N in 0, 2, 4, 5
 *   evil_os_pN = pickle.dumps(Evil(), protocol=N)           # N in 0, 2, 4
 *   evil_eval = pickle.dumps(EvalR(), protocol=4)           # __reduce__ -> (eval, ('1+1',))
 *   evil_popen = pickle.dumps(PopenR(), protocol=4)         # __reduce__ -> (subprocess.Popen, (['true'],))
 *   from sklearn.ensemble import RandomForestClassifier    # tree nodes: a structured 'V64' dtype array
 *   joblib_forest = jdump(RandomForestClassifier(n_estimators=1, max_depth=2, random_state=0).fit(X, y))
 *
 * Smuggling fixtures start from base = jdump({'x': np.zeros(0, 'u1')}) (242 bytes: a 215-byte
 * frame ending with the wrapper's BUILD, the padding byte 13 and 13 bytes of padding, then
 * SETITEM and STOP) and p = b'cposix\nsystem\n(Vecho pwned\ntR0':
 *   smuggle_after_array = base[:240] + p + base[240:]        # opcodes right after the array bytes
 *   smuggle_build_mid_frame: one frame holding base[11:226] + p + b's.' with the shape patched
 *     to (3,), followed by b'\x00ABC' (padding byte 0 + 3 array bytes) after the frame
 *   smuggle_after_stop = base + b'\x80\x04' + p + b'N.'      # a second pickle after the STOP
 * The first two were checked to run their payload under joblib.load (with builtins.print as
 * the payload); joblib.load ignores the third's trailing pickle.
 */

const FIXTURES = {
  joblib_arrays_p4:
    'gASV2AEAAAAAAAB9lCiMBW1vZGVslIwQc2tsZWFybi5waXBlbGluZZSMCFBpcGVsaW5llJOUKYGUfZQojAVzdGVwc5RdlCiM' +
    'DnN0YW5kYXJkc2NhbGVylIwbc2tsZWFybi5wcmVwcm9jZXNzaW5nLl9kYXRhlIwOU3RhbmRhcmRTY2FsZXKUk5QpgZR9lCiM' +
    'CXdpdGhfbWVhbpSIjAh3aXRoX3N0ZJSIjARjb3B5lIiMDm5fZmVhdHVyZXNfaW5flEsDjA9uX3NhbXBsZXNfc2Vlbl+UjBZu' +
    'dW1weS5fY29yZS5tdWx0aWFycmF5lIwGc2NhbGFylJOUjAVudW1weZSMBWR0eXBllJOUjAJmOJSJiIeUUpQoSwOMATyUTk5O' +
    'Sv////9K/////0sAdJRiQwgAAAAAAAA0QJSGlFKUjAVtZWFuX5SME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5' +
    'V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xhc3OUaBeMB25kYXJyYXmUk5SMBXNoYXBllEsDhZSMBW9yZGVylIwBQ5SMBWR0eXBl' +
    'lGgcjAphbGxvd19tbWFwlIiMG251bXB5X2FycmF5X2FsaWdubWVudF9ieXRlc5RLEHViDP///////////////43CQGGipdE/' +
    'ClbLxlESyT9+Oq7e4uzOv5UqAAAAAAAAAIwEdmFyX5RoJSmBlH2UKGgoaCpoK0sDhZRoLWguaC9oHGgwiGgxSxB1YgT/////' +
    '3hzu46p49D9eQVETsCbwP+pXW0+7n+0/lSwAAAAAAAAAjAZzY2FsZV+UaCUpgZR9lChoKGgqaCtLA4WUaC1oLmgvaBxoMIho' +
    'MUsQdWIC///L6I/7HRnyP1zWOGZME/A/7ROcGADK7j+VnAEAAAAAAACMEF9za2xlYXJuX3ZlcnNpb26UjAUxLjkuMZR1YoaU' +
    'jBJsb2dpc3RpY3JlZ3Jlc3Npb26UjB5za2xlYXJuLmxpbmVhcl9tb2RlbC5fbG9naXN0aWOUjBJMb2dpc3RpY1JlZ3Jlc3Np' +
    'b26Uk5QpgZR9lCiMB3BlbmFsdHmUjApkZXByZWNhdGVklGguRz/wAAAAAAAAjAhsMV9yYXRpb5RHAAAAAAAAAACMBGR1YWyU' +
    'iYwDdG9slEc/Gjbi6xxDLYwNZml0X2ludGVyY2VwdJSIjBFpbnRlcmNlcHRfc2NhbGluZ5RLAYwMY2xhc3Nfd2VpZ2h0lE6M' +
    'DHJhbmRvbV9zdGF0ZZROjAZzb2x2ZXKUjAVsYmZnc5SMCG1heF9pdGVylEtkjAd2ZXJib3NllEsAjAp3YXJtX3N0YXJ0lImM' +
    'Bm5fam9ic5ROaBJLA4wIY2xhc3Nlc1+UaCUpgZR9lChoKGgqaCtLAoWUaC1oLmgvaBmMAmk4lImIh5RSlChLA2gdTk5OSv//' +
    '//9K/////0sAdJRiaDCIaDFLEHViAv//AAAAAAAAAAABAAAAAAAAAJVPAAAAAAAAAIwHbl9pdGVyX5RoJSmBlH2UKGgoaCpo' +
    'K0sBhZRoLWguaC9oGYwCaTSUiYiHlFKUKEsDaB1OTk5K/////0r/////SwB0lGJoMIhoMUsQdWIH/////////wYAAACVLQAA' +
    'AAAAAACMBWNvZWZflGglKYGUfZQoaChoKmgrSwFLA4aUaC1oLmgvaBxoMIhoMUsQdWIF//////+652bxdvT8P44HoeLOusM/' +
    'aqR7Cf6r2L+VMAAAAAAAAACMCmludGVyY2VwdF+UaCUpgZR9lChoKGgqaCtLAYWUaC1oLmgvaBxoMIhoMUsQdWIO////////' +
    '//////////9SnyGumwDtP5VYAAAAAAAAAGg6aDt1YoaUZYwPdHJhbnNmb3JtX2lucHV0lE6MBm1lbW9yeZROaE+JaDpoO3Vi' +
    'jANmNjSUaCUpgZR9lChoKGgqaCtLBYWUaC1oLmgvaBxoMIhoMUsQdWIG////////AAAAAAAAAAAAAAAAAADwPwAAAAAAAABA' +
    'AAAAAAAACEAAAAAAAAAQQJUpAAAAAAAAAIwDaTY0lGglKYGUfZQoaChoKmgrSweFlGgtaC5oL2hYaDCIaDFLEHViBf//////' +
    'AAAAAAAAAAABAAAAAAAAAAIAAAAAAAAAAwAAAAAAAAAEAAAAAAAAAAUAAAAAAAAABgAAAAAAAACVTgAAAAAAAACMBGJvb2yU' +
    'aCUpgZR9lChoKGgqaCtLA4WUaC1oLmgvaBmMAmIxlImIh5RSlChLA4wBfJROTk5K/////0r/////SwB0lGJoMIhoMUsQdWIQ' +
    '/////////////////////wEAAZVQAAAAAAAAAIwEZjMyRpRoJSmBlH2UKGgoaCpoK0sDSwKGlGgtjAFGlGgvaBmMAmY0lImI' +
    'h5RSlChLA2gdTk5OSv////9K/////0sAdJRiaDCIaDFLEHViA////wAAgD8AAIA/AACAPwAAgD8AAIA/AACAP5VPAAAAAAAA' +
    'AIwFZW1wdHmUaCUpgZR9lChoKGgqaCtLAEsEhpRoLWguaC9oGYwCdTGUiYiHlFKUKEsDaHxOTk5K/////0r/////SwB0lGJo' +
    'MIhoMUsQdWIP////////////////////lSsAAAAAAAAAjAhzY2FsYXIwZJRoJSmBlH2UKGgoaCpoKyloLWguaC9oHGgwiGgx' +
    'SxB1Ygv//////////////wAAAAAAAAxAlVAAAAAAAAAAjAZiaWdlbmSUaCUpgZR9lChoKGgqaCtLA4WUaC1oLmgvaBmMAmk0' +
    'lImIh5RSlChLA4wBPpROTk5K/////0r/////SwB0lGJoMIhoMUsQdWIO//////////////////8AAAAAAAAAAQAAAAKVRAAA' +
    'AAAAAACMAnU1lGglKYGUfZQoaChoKmgrSwKFlGgtaC5oL2gZjAJVM5SJiIeUUpQoSwNoHU5OTksMSwRLCHSUYmgwiGgxSxB1' +
    'Ygb///////9hAAAAYgAAAAAAAABjAAAAZAAAAGUAAACVRwAAAAAAAACMBWJ5dGVzlGglKYGUfZQoaChoKmgrSwKFlGgtaC5o' +
    'L2gZjAJTMpSJiIeUUpQoSwNofE5OTksCSwFLAHSUYmgwiGgxSxB1Ygf/////////eAB5epVaAAAAAAAAAIwCZHSUaCUpgZR9' +
    'lChoKGgqaCtLAYWUaC1oLmgvaBmMAk04lImIh5RSlChLBGgdTk5OSv////9K/////0sATihDAUSUSwFLAUsBdJSGlHSUYmgw' +
    'iGgxSxB1Ygj//////////1ZHAAAAAAAAlUwAAAAAAAAAjANjMTaUaCUpgZR9lChoKGgqaCtLAoWUaC1oLmgvaBmMA2MxNpSJ' +
    'iIeUUpQoSwNoHU5OTkr/////Sv////9LAHSUYmgwiGgxSxB1YgL//wAAAAAAAPA/AAAAAAAAAAAAAAAAAADwPwAAAAAAAAAA' +
    'dS4=',
  joblib_arrays_p2:
    'gAJ9cQAoWAUAAABtb2RlbHEBY3NrbGVhcm4ucGlwZWxpbmUKUGlwZWxpbmUKcQIpgXEDfXEEKFgFAAAAc3RlcHNxBV1xBihY' +
    'DgAAAHN0YW5kYXJkc2NhbGVycQdjc2tsZWFybi5wcmVwcm9jZXNzaW5nLl9kYXRhClN0YW5kYXJkU2NhbGVyCnEIKYFxCX1x' +
    'CihYCQAAAHdpdGhfbWVhbnELiFgIAAAAd2l0aF9zdGRxDIhYBAAAAGNvcHlxDYhYDgAAAG5fZmVhdHVyZXNfaW5fcQ5LA1gP' +
    'AAAAbl9zYW1wbGVzX3NlZW5fcQ9jbnVtcHkuX2NvcmUubXVsdGlhcnJheQpzY2FsYXIKcRBjbnVtcHkKZHR5cGUKcRFYAgAA' +
    'AGY4cRKJiIdxE1JxFChLA1gBAAAAPHEVTk5OSv////9K/////0sAdHEWYmNfY29kZWNzCmVuY29kZQpxF1gIAAAAAAAAAAAA' +
    'NEBxGFgGAAAAbGF0aW4xcRmGcRpScRuGcRxScR1YBQAAAG1lYW5fcR5jam9ibGliLm51bXB5X3BpY2tsZQpOdW1weUFycmF5' +
    'V3JhcHBlcgpxHymBcSB9cSEoWAgAAABzdWJjbGFzc3EiY251bXB5Cm5kYXJyYXkKcSNYBQAAAHNoYXBlcSRLA4VxJVgFAAAA' +
    'b3JkZXJxJlgBAAAAQ3EnWAUAAABkdHlwZXEoaBRYCgAAAGFsbG93X21tYXBxKYhYGwAAAG51bXB5X2FycmF5X2FsaWdubWVu' +
    'dF9ieXRlc3EqSxB1YgL//43CQGGipdE/ClbLxlESyT9+Oq7e4uzOv1gEAAAAdmFyX3EraB8pgXEsfXEtKGgiaCNoJEsDhXEu' +
    'aCZoJ2goaBRoKYhoKksQdWIG////////3hzu46p49D9eQVETsCbwP+pXW0+7n+0/WAYAAABzY2FsZV9xL2gfKYFxMH1xMSho' +
    'ImgjaCRLA4VxMmgmaCdoKGgUaCmIaCpLEHViBP/////L6I/7HRnyP1zWOGZME/A/7ROcGADK7j9YEAAAAF9za2xlYXJuX3Zl' +
    'cnNpb25xM1gFAAAAMS45LjFxNHVihnE1WBIAAABsb2dpc3RpY3JlZ3Jlc3Npb25xNmNza2xlYXJuLmxpbmVhcl9tb2RlbC5f' +
    'bG9naXN0aWMKTG9naXN0aWNSZWdyZXNzaW9uCnE3KYFxOH1xOShYBwAAAHBlbmFsdHlxOlgKAAAAZGVwcmVjYXRlZHE7aCdH' +
    'P/AAAAAAAABYCAAAAGwxX3JhdGlvcTxHAAAAAAAAAABYBAAAAGR1YWxxPYlYAwAAAHRvbHE+Rz8aNuLrHEMtWA0AAABmaXRf' +
    'aW50ZXJjZXB0cT+IWBEAAABpbnRlcmNlcHRfc2NhbGluZ3FASwFYDAAAAGNsYXNzX3dlaWdodHFBTlgMAAAAcmFuZG9tX3N0' +
    'YXRlcUJOWAYAAABzb2x2ZXJxQ1gFAAAAbGJmZ3NxRFgIAAAAbWF4X2l0ZXJxRUtkWAcAAAB2ZXJib3NlcUZLAFgKAAAAd2Fy' +
    'bV9zdGFydHFHiVgGAAAAbl9qb2JzcUhOaA5LA1gIAAAAY2xhc3Nlc19xSWgfKYFxSn1xSyhoImgjaCRLAoVxTGgmaCdoKGgR' +
    'WAIAAABpOHFNiYiHcU5ScU8oSwNoFU5OTkr/////Sv////9LAHRxUGJoKYhoKksQdWIF//////8AAAAAAAAAAAEAAAAAAAAA' +
    'WAcAAABuX2l0ZXJfcVFoHymBcVJ9cVMoaCJoI2gkSwGFcVRoJmgnaChoEVgCAAAAaTRxVYmIh3FWUnFXKEsDaBVOTk5K////' +
    '/0r/////SwB0cVhiaCmIaCpLEHViAv//BgAAAFgFAAAAY29lZl9xWWgfKYFxWn1xWyhoImgjaCRLAUsDhnFcaCZoJ2goaBRo' +
    'KYhoKksQdWIH/////////7rnZvF29Pw/jgeh4s66wz9qpHsJ/qvYv1gKAAAAaW50ZXJjZXB0X3FdaB8pgXFefXFfKGgiaCNo' +
    'JEsBhXFgaCZoJ2goaBRoKYhoKksQdWIQ/////////////////////1KfIa6bAO0/aDNoNHVihnFhZVgPAAAAdHJhbnNmb3Jt' +
    'X2lucHV0cWJOWAYAAABtZW1vcnlxY05oRoloM2g0dWJYAwAAAGY2NHFkaB8pgXFlfXFmKGgiaCNoJEsFhXFnaCZoJ2goaBRo' +
    'KYhoKksQdWIP////////////////////AAAAAAAAAAAAAAAAAADwPwAAAAAAAABAAAAAAAAACEAAAAAAAAAQQFgDAAAAaTY0' +
    'cWhoHymBcWl9cWooaCJoI2gkSweFcWtoJmgnaChoT2gpiGgqSxB1Ygf/////////AAAAAAAAAAABAAAAAAAAAAIAAAAAAAAA' +
    'AwAAAAAAAAAEAAAAAAAAAAUAAAAAAAAABgAAAAAAAABYBAAAAGJvb2xxbGgfKYFxbX1xbihoImgjaCRLA4Vxb2gmaCdoKGgR' +
    'WAIAAABiMXFwiYiHcXFScXIoSwNYAQAAAHxxc05OTkr/////Sv////9LAHRxdGJoKYhoKksQdWIH/////////wEAAVgEAAAA' +
    'ZjMyRnF1aB8pgXF2fXF3KGgiaCNoJEsDSwKGcXhoJlgBAAAARnF5aChoEVgCAAAAZjRxeomIh3F7UnF8KEsDaBVOTk5K////' +
    '/0r/////SwB0cX1iaCmIaCpLEHViCv////////////8AAIA/AACAPwAAgD8AAIA/AACAPwAAgD9YBQAAAGVtcHR5cX5oHymB' +
    'cX99cYAoaCJoI2gkSwBLBIZxgWgmaCdoKGgRWAIAAAB1MXGCiYiHcYNScYQoSwNoc05OTkr/////Sv////9LAHRxhWJoKYho' +
    'KksQdWIK/////////////1gIAAAAc2NhbGFyMGRxhmgfKYFxh31xiChoImgjaCQpaCZoJ2goaBRoKYhoKksQdWIO////////' +
    '//////////8AAAAAAAAMQFgGAAAAYmlnZW5kcYloHymBcYp9cYsoaCJoI2gkSwOFcYxoJmgnaChoEVgCAAAAaTRxjYmIh3GO' +
    'UnGPKEsDWAEAAAA+cZBOTk5K/////0r/////SwB0cZFiaCmIaCpLEHViBf//////AAAAAAAAAAEAAAACWAIAAAB1NXGSaB8p' +
    'gXGTfXGUKGgiaCNoJEsChXGVaCZoJ2goaBFYAgAAAFUzcZaJiIdxl1JxmChLA2gVTk5OSwxLBEsIdHGZYmgpiGgqSxB1YgH/' +
    'YQAAAGIAAAAAAAAAYwAAAGQAAABlAAAAWAUAAABieXRlc3GaaB8pgXGbfXGcKGgiaCNoJEsChXGdaCZoJ2goaBFYAgAAAFMy' +
    'cZ6JiIdxn1JxoChLA2hzTk5OSwJLAUsAdHGhYmgpiGgqSxB1YgL//3gAeXpYAgAAAGR0caJoHymBcaN9caQoaCJoI2gkSwGF' +
    'caVoJmgnaChoEVgCAAAATThxpomIh3GnUnGoKEsEaBVOTk5K/////0r/////SwBOKGgXWAEAAABEcaloGYZxqlJxq0sBSwFL' +
    'AXRxrIZxrXRxrmJoKYhoKksQdWID////VkcAAAAAAABYAwAAAGMxNnGvaB8pgXGwfXGxKGgiaCNoJEsChXGyaCZoJ2goaBFY' +
    'AwAAAGMxNnGziYiHcbRScbUoSwNoFU5OTkr/////Sv////9LAHRxtmJoKYhoKksQdWIN/////////////////wAAAAAAAPA/' +
    'AAAAAAAAAAAAAAAAAADwPwAAAAAAAAAAdS4=',
  joblib_arrays_p0:
    'KGRwMApWZjY0CnAxCmNjb3B5X3JlZwpfcmVjb25zdHJ1Y3RvcgpwMgooY2pvYmxpYi5udW1weV9waWNrbGUKTnVtcHlBcnJh' +
    'eVdyYXBwZXIKcDMKY19fYnVpbHRpbl9fCm9iamVjdApwNApOdHA1ClJwNgooZHA3ClZzdWJjbGFzcwpwOApjbnVtcHkKbmRh' +
    'cnJheQpwOQpzVnNoYXBlCnAxMAooSTUKdHAxMQpzVm9yZGVyCnAxMgpWQwpwMTMKc1ZkdHlwZQpwMTQKY251bXB5CmR0eXBl' +
    'CnAxNQooVmY4CnAxNgpJMDAKSTAxCnRwMTcKUnAxOAooSTMKVjwKcDE5Ck5OTkktMQpJLTEKSTAKdHAyMApic1ZhbGxvd19t' +
    'bWFwCnAyMQpJMDEKc1ZudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXMKcDIyCkkxNgpzYgv//////////////wAAAAAAAAAA' +
    'AAAAAAAA8D8AAAAAAAAAQAAAAAAAAAhAAAAAAAAAEEBzVmk2NApwMjMKZzIKKGczCmc0Ck50cDI0ClJwMjUKKGRwMjYKZzgK' +
    'ZzkKc2cxMAooSTcKdHAyNwpzZzEyCmcxMwpzZzE0CmcxNQooVmk4CnAyOApJMDAKSTAxCnRwMjkKUnAzMAooSTMKZzE5Ck5O' +
    'TkktMQpJLTEKSTAKdHAzMQpic2cyMQpJMDEKc2cyMgpJMTYKc2IB/wAAAAAAAAAAAQAAAAAAAAACAAAAAAAAAAMAAAAAAAAA' +
    'BAAAAAAAAAAFAAAAAAAAAAYAAAAAAAAAc1Zib29sCnAzMgpnMgooZzMKZzQKTnRwMzMKUnAzNAooZHAzNQpnOApnOQpzZzEw' +
    'CihJMwp0cDM2CnNnMTIKZzEzCnNnMTQKZzE1CihWYjEKcDM3CkkwMApJMDEKdHAzOApScDM5CihJMwpWfApwNDAKTk5OSS0x' +
    'CkktMQpJMAp0cDQxCmJzZzIxCkkwMQpzZzIyCkkxNgpzYg3/////////////////AQABcy4=',
  joblib_objarray:
    'gASV2AAAAAAAAAB9lCiMAW+UjBNqb2JsaWIubnVtcHlfcGlja2xllIwRTnVtcHlBcnJheVdyYXBwZXKUk5QpgZR9lCiMCHN1' +
    'YmNsYXNzlIwFbnVtcHmUjAduZGFycmF5lJOUjAVzaGFwZZRLBIWUjAVvcmRlcpSMAUOUjAVkdHlwZZRoCIwFZHR5cGWUk5SM' +
    'Ak84lImIh5RSlChLA4wBfJROTk5K/////0r/////Sz90lGKMCmFsbG93X21tYXCUiYwbbnVtcHlfYXJyYXlfYWxpZ25tZW50' +
    'X2J5dGVzlEsQdWKABZWhAAAAAAAAAIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmU' +
    'jAduZGFycmF5lJOUSwCFlEMBYpSHlFKUKEsBSwSFlGgDjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv//' +
    '//9LP3SUYoldlCiMAWGUSwFOfZSMAWuUR0AEAAAAAAAAc2V0lGIulU8AAAAAAAAAjAVhZnRlcpRoBCmBlH2UKGgHaApoC0sD' +
    'hZRoDWgOaA9oEYwCaTiUiYiHlFKUKEsDjAE8lE5OTkr/////Sv////9LAHSUYmgXiGgYSxB1Ygj//////////wAAAAAAAAAA' +
    'AQAAAAAAAAACAAAAAAAAAHUu',
  joblib_objarray_evil:
    'gASV1wAAAAAAAAB9lIwBb5SME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3Vi' +
    'Y2xhc3OUjAVudW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsBhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgIjAVkdHlwZZSTlIwC' +
    'TziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYowKYWxsb3dfbW1hcJSJjBtudW1weV9hcnJheV9hbGlnbm1lbnRf' +
    'Ynl0ZXOUSxB1YoAFla0AAAAAAAAAjBZudW1weS5fY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUjAVudW1weZSM' +
    'B25kYXJyYXmUk5RLAIWUQwFilIeUUpQoSwFLAYWUaAOMBWR0eXBllJOUjAJPOJSJiIeUUpQoSwOMAXyUTk5OSv////9K////' +
    '/0s/dJRiiV2UjAVwb3NpeJSMBnN5c3RlbZSTlIwKZWNobyBwd25lZJSFlFKUYXSUYi5zLg==',
  pickle_p0:
    'Y2NvcHlfcmVnCl9yZWNvbnN0cnVjdG9yCnAwCihjc2tsZWFybi5saW5lYXJfbW9kZWwuX2xvZ2lzdGljCkxvZ2lzdGljUmVn' +
    'cmVzc2lvbgpwMQpjX19idWlsdGluX18Kb2JqZWN0CnAyCk50cDMKUnA0CihkcDUKVnBlbmFsdHkKcDYKVmRlcHJlY2F0ZWQK' +
    'cDcKc1ZDCnA4CkYxLjAKc1ZsMV9yYXRpbwpwOQpGMC4wCnNWZHVhbApwMTAKSTAwCnNWdG9sCnAxMQpGMC4wMDAxCnNWZml0' +
    'X2ludGVyY2VwdApwMTIKSTAxCnNWaW50ZXJjZXB0X3NjYWxpbmcKcDEzCkkxCnNWY2xhc3Nfd2VpZ2h0CnAxNApOc1ZyYW5k' +
    'b21fc3RhdGUKcDE1Ck5zVnNvbHZlcgpwMTYKVmxiZmdzCnAxNwpzVm1heF9pdGVyCnAxOApJMTAwCnNWdmVyYm9zZQpwMTkK' +
    'STAKc1Z3YXJtX3N0YXJ0CnAyMApJMDAKc1ZuX2pvYnMKcDIxCk5zVm5fZmVhdHVyZXNfaW5fCnAyMgpJMwpzVmNsYXNzZXNf' +
    'CnAyMwpjbnVtcHkuX2NvcmUubXVsdGlhcnJheQpfcmVjb25zdHJ1Y3QKcDI0CihjbnVtcHkKbmRhcnJheQpwMjUKKEkwCnRw' +
    'MjYKY19jb2RlY3MKZW5jb2RlCnAyNwooVmIKcDI4ClZsYXRpbjEKcDI5CnRwMzAKUnAzMQp0cDMyClJwMzMKKEkxCihJMgp0' +
    'cDM0CmNudW1weQpkdHlwZQpwMzUKKFZpOApwMzYKSTAwCkkwMQp0cDM3ClJwMzgKKEkzClY8CnAzOQpOTk5JLTEKSS0xCkkw' +
    'CnRwNDAKYkkwMApnMjcKKFZcdTAwMDBcdTAwMDBcdTAwMDBcdTAwMDBcdTAwMDBcdTAwMDBcdTAwMDBcdTAwMDABXHUwMDAw' +
    'XHUwMDAwXHUwMDAwXHUwMDAwXHUwMDAwXHUwMDAwXHUwMDAwCnA0MQpnMjkKdHA0MgpScDQzCnRwNDQKYnNWbl9pdGVyXwpw' +
    'NDUKZzI0CihnMjUKKEkwCnRwNDYKZzMxCnRwNDcKUnA0OAooSTEKKEkxCnRwNDkKZzM1CihWaTQKcDUwCkkwMApJMDEKdHA1' +
    'MQpScDUyCihJMwpnMzkKTk5OSS0xCkktMQpJMAp0cDUzCmJJMDAKZzI3CihWBlx1MDAwMFx1MDAwMFx1MDAwMApwNTQKZzI5' +
    'CnRwNTUKUnA1Ngp0cDU3CmJzVmNvZWZfCnA1OApnMjQKKGcyNQooSTAKdHA1OQpnMzEKdHA2MApScDYxCihJMQooSTEKSTMK' +
    'dHA2MgpnMzUKKFZmOApwNjMKSTAwCkkwMQp0cDY0ClJwNjUKKEkzCmczOQpOTk5JLTEKSS0xCkkwCnRwNjYKYkkwMApnMjcK' +
    'KFbaivyC2Xn8PwuUXHUwMDBhKLzdwz/o9RDquaHZvwpwNjcKZzI5CnRwNjgKUnA2OQp0cDcwCmJzVmludGVyY2VwdF8KcDcx' +
    'CmcyNAooZzI1CihJMAp0cDcyCmczMQp0cDczClJwNzQKKEkxCihJMQp0cDc1Cmc2NQpJMDAKZzI3CihWLk0BgMGs1D8KcDc2' +
    'CmcyOQp0cDc3ClJwNzgKdHA3OQpic1Zfc2tsZWFybl92ZXJzaW9uCnA4MApWMS45LjEKcDgxCnNiLg==',
  pickle_p2:
    'gAJjc2tsZWFybi5saW5lYXJfbW9kZWwuX2xvZ2lzdGljCkxvZ2lzdGljUmVncmVzc2lvbgpxACmBcQF9cQIoWAcAAABwZW5h' +
    'bHR5cQNYCgAAAGRlcHJlY2F0ZWRxBFgBAAAAQ3EFRz/wAAAAAAAAWAgAAABsMV9yYXRpb3EGRwAAAAAAAAAAWAQAAABkdWFs' +
    'cQeJWAMAAAB0b2xxCEc/Gjbi6xxDLVgNAAAAZml0X2ludGVyY2VwdHEJiFgRAAAAaW50ZXJjZXB0X3NjYWxpbmdxCksBWAwA' +
    'AABjbGFzc193ZWlnaHRxC05YDAAAAHJhbmRvbV9zdGF0ZXEMTlgGAAAAc29sdmVycQ1YBQAAAGxiZmdzcQ5YCAAAAG1heF9p' +
    'dGVycQ9LZFgHAAAAdmVyYm9zZXEQSwBYCgAAAHdhcm1fc3RhcnRxEYlYBgAAAG5fam9ic3ESTlgOAAAAbl9mZWF0dXJlc19p' +
    'bl9xE0sDWAgAAABjbGFzc2VzX3EUY251bXB5Ll9jb3JlLm11bHRpYXJyYXkKX3JlY29uc3RydWN0CnEVY251bXB5Cm5kYXJy' +
    'YXkKcRZLAIVxF2NfY29kZWNzCmVuY29kZQpxGFgBAAAAYnEZWAYAAABsYXRpbjFxGoZxG1JxHIdxHVJxHihLAUsChXEfY251' +
    'bXB5CmR0eXBlCnEgWAIAAABpOHEhiYiHcSJScSMoSwNYAQAAADxxJE5OTkr/////Sv////9LAHRxJWKJaBhYEAAAAAAAAAAA' +
    'AAAAAQAAAAAAAABxJmgahnEnUnEodHEpYlgHAAAAbl9pdGVyX3EqaBVoFksAhXEraByHcSxScS0oSwFLAYVxLmggWAIAAABp' +
    'NHEviYiHcTBScTEoSwNoJE5OTkr/////Sv////9LAHRxMmKJaBhYBAAAAAYAAABxM2gahnE0UnE1dHE2YlgFAAAAY29lZl9x' +
    'N2gVaBZLAIVxOGgch3E5UnE6KEsBSwFLA4ZxO2ggWAIAAABmOHE8iYiHcT1ScT4oSwNoJE5OTkr/////Sv////9LAHRxP2KJ' +
    'aBhYKQAAAMOaworDvMKCw5l5w7w/C8KUCijCvMOdw4M/w6jDtRDDqsK5wqHDmcK/cUBoGoZxQVJxQnRxQ2JYCgAAAGludGVy' +
    'Y2VwdF9xRGgVaBZLAIVxRWgch3FGUnFHKEsBSwGFcUhoPoloGFgMAAAALk0BwoDDgcKsw5Q/cUloGoZxSlJxS3RxTGJYEAAA' +
    'AF9za2xlYXJuX3ZlcnNpb25xTVgFAAAAMS45LjFxTnViLg==',
  pickle_p4:
    'gASVzQIAAAAAAACMHnNrbGVhcm4ubGluZWFyX21vZGVsLl9sb2dpc3RpY5SMEkxvZ2lzdGljUmVncmVzc2lvbpSTlCmBlH2U' +
    'KIwHcGVuYWx0eZSMCmRlcHJlY2F0ZWSUjAFDlEc/8AAAAAAAAIwIbDFfcmF0aW+URwAAAAAAAAAAjARkdWFslImMA3RvbJRH' +
    'Pxo24uscQy2MDWZpdF9pbnRlcmNlcHSUiIwRaW50ZXJjZXB0X3NjYWxpbmeUSwGMDGNsYXNzX3dlaWdodJROjAxyYW5kb21f' +
    'c3RhdGWUTowGc29sdmVylIwFbGJmZ3OUjAhtYXhfaXRlcpRLZIwHdmVyYm9zZZRLAIwKd2FybV9zdGFydJSJjAZuX2pvYnOU' +
    'TowObl9mZWF0dXJlc19pbl+USwOMCGNsYXNzZXNflIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJST' +
    'lIwFbnVtcHmUjAduZGFycmF5lJOUSwCFlEMBYpSHlFKUKEsBSwKFlGgajAVkdHlwZZSTlIwCaTiUiYiHlFKUKEsDjAE8lE5O' +
    'Tkr/////Sv////9LAHSUYolDEAAAAAAAAAAAAQAAAAAAAACUdJRijAduX2l0ZXJflGgZaBxLAIWUaB6HlFKUKEsBSwGFlGgj' +
    'jAJpNJSJiIeUUpQoSwNoJ05OTkr/////Sv////9LAHSUYolDBAYAAACUdJRijAVjb2VmX5RoGWgcSwCFlGgeh5RSlChLAUsB' +
    'SwOGlGgjjAJmOJSJiIeUUpQoSwNoJ05OTkr/////Sv////9LAHSUYolDGNqK/ILZefw/C5QKKLzdwz/o9RDquaHZv5R0lGKM' +
    'CmludGVyY2VwdF+UaBloHEsAhZRoHoeUUpQoSwFLAYWUaD2JQwguTQGAwazUP5R0lGKMEF9za2xlYXJuX3ZlcnNpb26UjAUx' +
    'LjkuMZR1Yi4=',
  pickle_p5:
    'gAWVqQIAAAAAAACMHnNrbGVhcm4ubGluZWFyX21vZGVsLl9sb2dpc3RpY5SMEkxvZ2lzdGljUmVncmVzc2lvbpSTlCmBlH2U' +
    'KIwHcGVuYWx0eZSMCmRlcHJlY2F0ZWSUjAFDlEc/8AAAAAAAAIwIbDFfcmF0aW+URwAAAAAAAAAAjARkdWFslImMA3RvbJRH' +
    'Pxo24uscQy2MDWZpdF9pbnRlcmNlcHSUiIwRaW50ZXJjZXB0X3NjYWxpbmeUSwGMDGNsYXNzX3dlaWdodJROjAxyYW5kb21f' +
    'c3RhdGWUTowGc29sdmVylIwFbGJmZ3OUjAhtYXhfaXRlcpRLZIwHdmVyYm9zZZRLAIwKd2FybV9zdGFydJSJjAZuX2pvYnOU' +
    'TowObl9mZWF0dXJlc19pbl+USwOMCGNsYXNzZXNflIwTbnVtcHkuX2NvcmUubnVtZXJpY5SMC19mcm9tYnVmZmVylJOUKJYQ' +
    'AAAAAAAAAAAAAAAAAAAAAQAAAAAAAACUjAVudW1weZSMBWR0eXBllJOUjAJpOJSJiIeUUpQoSwOMATyUTk5OSv////9K////' +
    '/0sAdJRiSwKFlIwBQ5R0lFKUjAduX2l0ZXJflGgZKJYEAAAAAAAAAAYAAACUaB2MAmk0lImIh5RSlChLA2ghTk5OSv////9K' +
    '/////0sAdJRiSwGFlGgkdJRSlIwFY29lZl+UaBkolhgAAAAAAAAA2or8gtl5/D8LlAoovN3DP+j1EOq5odm/lGgdjAJmOJSJ' +
    'iIeUUpQoSwNoIU5OTkr/////Sv////9LAHSUYksBSwOGlGgkdJRSlIwKaW50ZXJjZXB0X5RoGSiWCAAAAAAAAAAuTQGAwazU' +
    'P5RoNEsBhZRoJHSUUpSMEF9za2xlYXJuX3ZlcnNpb26UjAUxLjkuMZR1Yi4=',
  evil_os_p0: 'Y3Bvc2l4CnN5c3RlbQpwMAooVmVjaG8gcHduZWQKcDEKdHAyClJwMwou',
  evil_os_p2: 'gAJjcG9zaXgKc3lzdGVtCnEAWAoAAABlY2hvIHB3bmVkcQGFcQJScQMu',
  evil_os_p4: 'gASVJQAAAAAAAACMBXBvc2l4lIwGc3lzdGVtlJOUjAplY2hvIHB3bmVklIWUUpQu',
  evil_eval: 'gASVHwAAAAAAAACMCGJ1aWx0aW5zlIwEZXZhbJSTlIwDMSsxlIWUUpQu',
  evil_popen: 'gASVJgAAAAAAAACMCnN1YnByb2Nlc3OUjAVQb3BlbpSTlF2UjAR0cnVllGGFlFKULg==',
  smuggle_after_array:
    'gASV1wAAAAAAAAB9lIwBeJSME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3Vi' +
    'Y2xhc3OUjAVudW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsAhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgIjAVkdHlwZZSTlIwC' +
    'dTGUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LAHSUYowKYWxsb3dfbW1hcJSIjBtudW1weV9hcnJheV9hbGlnbm1lbnRf' +
    'Ynl0ZXOUSxB1Yg3/////////////////Y3Bvc2l4CnN5c3RlbQooVmVjaG8gcHduZWQKdFIwcy4=',
  smuggle_build_mid_frame:
    'gASV9wAAAAAAAAB9lIwBeJSME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3Vi' +
    'Y2xhc3OUjAVudW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsDhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgIjAVkdHlwZZSTlIwC' +
    'dTGUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LAHSUYowKYWxsb3dfbW1hcJSIjBtudW1weV9hcnJheV9hbGlnbm1lbnRf' +
    'Ynl0ZXOUSxB1YmNwb3NpeApzeXN0ZW0KKFZlY2hvIHB3bmVkCnRSMHMuAEFCQw==',
  smuggle_after_stop:
    'gASV1wAAAAAAAAB9lIwBeJSME2pvYmxpYi5udW1weV9waWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3Vi' +
    'Y2xhc3OUjAVudW1weZSMB25kYXJyYXmUk5SMBXNoYXBllEsAhZSMBW9yZGVylIwBQ5SMBWR0eXBllGgIjAVkdHlwZZSTlIwC' +
    'dTGUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LAHSUYowKYWxsb3dfbW1hcJSIjBtudW1weV9hcnJheV9hbGlnbm1lbnRf' +
    'Ynl0ZXOUSxB1Yg3/////////////////cy6ABGNwb3NpeApzeXN0ZW0KKFZlY2hvIHB3bmVkCnRSME4u',
  joblib_forest:
    'gASVhgMAAAAAAACMGHNrbGVhcm4uZW5zZW1ibGUuX2ZvcmVzdJSMFlJhbmRvbUZvcmVzdENsYXNzaWZpZXKUk5QpgZR9lCiM' +
    'CWVzdGltYXRvcpSMFXNrbGVhcm4udHJlZS5fY2xhc3Nlc5SMFkRlY2lzaW9uVHJlZUNsYXNzaWZpZXKUk5QpgZR9lCiMCWNy' +
    'aXRlcmlvbpSMBGdpbmmUjAhzcGxpdHRlcpSMBGJlc3SUjAltYXhfZGVwdGiUTowRbWluX3NhbXBsZXNfc3BsaXSUSwKMEG1p' +
    'bl9zYW1wbGVzX2xlYWaUSwGMGG1pbl93ZWlnaHRfZnJhY3Rpb25fbGVhZpRHAAAAAAAAAACMDG1heF9mZWF0dXJlc5ROjA5t' +
    'YXhfbGVhZl9ub2Rlc5ROjAxyYW5kb21fc3RhdGWUTowVbWluX2ltcHVyaXR5X2RlY3JlYXNllEcAAAAAAAAAAIwMY2xhc3Nf' +
    'd2VpZ2h0lE6MCWNjcF9hbHBoYZRHAAAAAAAAAACMDW1vbm90b25pY19jc3SUTowQX3NrbGVhcm5fdmVyc2lvbpSMBTEuOS4x' +
    'lHVijAxuX2VzdGltYXRvcnOUSwGMEGVzdGltYXRvcl9wYXJhbXOUKGgLaA9oEGgRaBJoE2gUaBZoFWgYaBl0lIwJYm9vdHN0' +
    'cmFwlIiMCW9vYl9zY29yZZSJjAZuX2pvYnOUTmgVSwCMB3ZlcmJvc2WUSwCMCndhcm1fc3RhcnSUiWgXTowLbWF4X3NhbXBs' +
    'ZXOUTmgLaAxoD0sCaBBLAmgRSwFoEkcAAAAAAAAAAGgTjARzcXJ0lGgUTmgWRwAAAAAAAAAAaBlOaBhHAAAAAAAAAACMDm5f' +
    'ZmVhdHVyZXNfaW5flEsDjApfbl9zYW1wbGVzlEsyjApuX291dHB1dHNflEsBjAhjbGFzc2VzX5SME2pvYmxpYi5udW1weV9w' +
    'aWNrbGWUjBFOdW1weUFycmF5V3JhcHBlcpSTlCmBlH2UKIwIc3ViY2xhc3OUjAVudW1weZSMB25kYXJyYXmUk5SMBXNoYXBl' +
    'lEsChZSMBW9yZGVylIwBQ5SMBWR0eXBllGgwjAVkdHlwZZSTlIwCaTiUiYiHlFKUKEsDjAE8lE5OTkr/////Sv////9LAHSU' +
    'YowKYWxsb3dfbW1hcJSIjBtudW1weV9hcnJheV9hbGlnbm1lbnRfYnl0ZXOUSxB1Yg7//////////////////wAAAAAAAAAA' +
    'AQAAAAAAAACV+QAAAAAAAACMCm5fY2xhc3Nlc1+USwKMDl9zYW1wbGVfd2VpZ2h0lE6MFF9uX3NhbXBsZXNfYm9vdHN0cmFw' +
    'lEsyjAplc3RpbWF0b3JflGgJjAtlc3RpbWF0b3JzX5RdlGgIKYGUfZQoaAtoDGgNaA5oD0sCaBBLAmgRSwFoEkcAAAAAAAAA' +
    'AGgTaCVoFE5oFUqsCn8MaBZHAAAAAAAAAABoF05oGEcAAAAAAAAAAGgZTmgmSwNoKEsBaCloLCmBlH2UKGgvaDJoM0sChZRo' +
    'NWg2aDdoOYwCZjiUiYiHlFKUKEsDaD1OTk5K/////0r/////SwB0lGJoP4hoQEsQdWIN/////////////////wAAAAAAAAAA' +
    'AAAAAAAA8D+VlAAAAAAAAABoQYwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMBnNjYWxhcpSTlGg8QwgCAAAAAAAAAJSGlFKU' +
    'jA1tYXhfZmVhdHVyZXNflEsBjAV0cmVlX5SMEnNrbGVhcm4udHJlZS5fdHJlZZSMBFRyZWWUk5RLA2gsKYGUfZQoaC9oMmgz' +
    'SwGFlGg1aDZoN2g8aD+IaEBLEHViAv//AgAAAAAAAACVawEAAAAAAABLAYeUUpR9lChoD0sCjApub2RlX2NvdW50lEsHjAVu' +
    'b2Rlc5RoLCmBlH2UKGgvaDJoM0sHhZRoNWg2aDdoOYwDVjY0lImIh5RSlChLA4wBfJROKIwKbGVmdF9jaGlsZJSMC3JpZ2h0' +
    'X2NoaWxklIwHZmVhdHVyZZSMCXRocmVzaG9sZJSMCGltcHVyaXR5lIwObl9ub2RlX3NhbXBsZXOUjBd3ZWlnaHRlZF9uX25v' +
    'ZGVfc2FtcGxlc5SMEm1pc3NpbmdfZ29fdG9fbGVmdJR0lH2UKGhqaDmMAmk4lImIh5RSlChLA2g9Tk5OSv////9K/////0sA' +
    'dJRiSwCGlGhraHZLCIaUaGxodksQhpRobWhOSxiGlGhuaE5LIIaUaG9odksohpRocGhOSzCGlGhxaDmMAnUxlImIh5RSlChL' +
    'A2hpTk5OSv////9K/////0sAdJRiSziGlHVLQEsBSxB0lGJoP4hoQEsQdWID////AQAAAAAAAAAEAAAAAAAAAAIAAAAAAAAA' +
    'AAAAMF8U37+4HoXrUbjePyAAAAAAAAAAAAAAAAAASUAAAAAAAAAAAAIAAAAAAAAAAwAAAAAAAAAAAAAAAAAAAAAAAAAg00g/' +
    'YpEy8HRr3j8NAAAAAAAAAAAAAAAAADJAAQAAAAAAAAD//////////////////////v////////8AAAAAAAAAwAAAAAAAAAAA' +
    'BwAAAAAAAAAAAAAAAAAmQAAAAAAAAAAA//////////////////////7/////////AAAAAAAAAMAAAAAAAAAAAAYAAAAAAAAA' +
    'AAAAAAAAHEAAAAAAAAAAAAUAAAAAAAAABgAAAAAAAAAAAAAAAAAAAAAAAFJOf7K/AAAAAADg2T8TAAAAAAAAAAAAAAAAAEBA' +
    'AAAAAAAAAAD//////////////////////v////////8AAAAAAAAAwAAAAAAAAAAABQAAAAAAAAAAAAAAAAAiQAAAAAAAAAAA' +
    '//////////////////////7/////////AAAAAAAAAMAAAAAAAAAAAA4AAAAAAAAAAAAAAAAAN0AAAAAAAAAAAJUwAAAAAAAA' +
    'AIwGdmFsdWVzlGgsKYGUfZQoaC9oMmgzSwdLAUsCh5RoNWg2aDdoTmg/iGhASxB1Ygb///////+amZmZmZnZPzMzMzMzM+M/' +
    '5DiO4ziO4z85juM4juPYPwAAAAAAAPA/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAA0j8AAAAAAADnPwAAAAAAAPA/' +
    'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/lRAAAAAAAAAAdWJoGmgbdWJhaBpoG3ViLg==',
} as const;

const fixture = (name: keyof typeof FIXTURES): Uint8Array => Buffer.from(FIXTURES[name], 'base64');
const bytes = (...parts: (string | number[] | Uint8Array)[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
/** SHORT_BINUNICODE */
const su = (s: string): Uint8Array => bytes([0x8c, s.length], s);
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const PROTO4 = [0x80, 0x04];

const arrestsModel = readFileSync(
  fileURLToPath(new URL('../../examples/arrests-pickle/model.pkl', import.meta.url)),
);

function expectSafe(r: PickleScanResult): void {
  expect(r.error).toBeUndefined();
  expect(r.disallowed).toEqual([]);
  expect(isPickleSafe(r)).toBe(true);
}

function expectError(r: PickleScanResult, pattern?: RegExp): void {
  expect(r.error).toBeDefined();
  if (pattern) expect(r.error).toMatch(pattern);
  expect(isPickleSafe(r)).toBe(false);
}

describe('scanPickle: real artifacts', () => {
  it('accepts the committed joblib dump of the arrests pipeline', () => {
    const r = scanPickle(arrestsModel);
    expectSafe(r);
    expect(r.protocol).toBe(4);
    expect(r.globals).toEqual([
      'sklearn.pipeline.Pipeline',
      'sklearn.preprocessing._data.StandardScaler',
      'numpy._core.multiarray.scalar',
      'numpy.dtype',
      'joblib.numpy_pickle.NumpyArrayWrapper',
      'numpy.ndarray',
      'sklearn.linear_model._logistic.LogisticRegression',
    ]);
  });

  it.each([
    ['joblib_arrays_p4', 4],
    ['joblib_arrays_p2', 2],
    ['joblib_arrays_p0', null],
  ] as const)('skips inline joblib arrays of many dtypes (%s)', (name, protocol) => {
    const r = scanPickle(fixture(name));
    expectSafe(r);
    expect(r.protocol).toBe(protocol);
    expect(r.globals).toContain('joblib.numpy_pickle.NumpyArrayWrapper');
  });

  it('skips structured-dtype arrays (sklearn tree nodes)', () => {
    const r = scanPickle(fixture('joblib_forest'));
    expectSafe(r);
    expect(r.globals).toContain('sklearn.tree._tree.Tree');
  });

  it('maps protocol 0 names like Python 3 does (copy_reg, __builtin__)', () => {
    const r = scanPickle(fixture('joblib_arrays_p0'));
    expect(r.globals).toEqual([
      'copyreg._reconstructor',
      'joblib.numpy_pickle.NumpyArrayWrapper',
      'builtins.object',
      'numpy.ndarray',
      'numpy.dtype',
    ]);
  });

  it('scans the nested pickle joblib writes for object arrays', () => {
    const ok = scanPickle(fixture('joblib_objarray'));
    expectSafe(ok);
    expect(ok.globals).toContain('numpy._core.multiarray._reconstruct');
    const evil = scanPickle(fixture('joblib_objarray_evil'));
    expect(evil.error).toBeUndefined();
    expect(evil.disallowed).toEqual(['posix.system']);
    expect(isPickleSafe(evil)).toBe(false);
  });

  it.each([
    ['pickle_p0', null],
    ['pickle_p2', 2],
    ['pickle_p4', 4],
    ['pickle_p5', 5],
  ] as const)('accepts a plain pickle of a sklearn model (%s)', (name, protocol) => {
    const r = scanPickle(fixture(name));
    expectSafe(r);
    expect(r.protocol).toBe(protocol);
    expect(r.globals).toContain('sklearn.linear_model._logistic.LogisticRegression');
  });

  it('needs _codecs.encode only for protocols 0-2', () => {
    expect(scanPickle(fixture('pickle_p2')).globals).toContain('_codecs.encode');
    expect(scanPickle(fixture('pickle_p4')).globals).not.toContain('_codecs.encode');
  });
});

describe('scanPickle: malicious pickles', () => {
  it.each(['evil_os_p0', 'evil_os_p2', 'evil_os_p4'] as const)(
    'rejects os.system via __reduce__ (%s)',
    (name) => {
      const r = scanPickle(fixture(name));
      expect(r.error).toBeUndefined();
      expect(r.disallowed).toEqual(['posix.system']);
      expect(isPickleSafe(r)).toBe(false);
    },
  );

  it('rejects builtins.eval and subprocess.Popen', () => {
    const e = scanPickle(fixture('evil_eval'));
    expect(e.disallowed).toEqual(['builtins.eval']);
    expect(isPickleSafe(e)).toBe(false);
    const p = scanPickle(fixture('evil_popen'));
    expect(p.disallowed).toEqual(['subprocess.Popen']);
    expect(isPickleSafe(p)).toBe(false);
  });

  it('maps __builtin__.eval at protocol 0 to builtins.eval', () => {
    const r = scanPickle(bytes('c__builtin__\neval\n(V1\ntR.'));
    expect(r.disallowed).toEqual(['builtins.eval']);
  });

  it('resolves STACK_GLOBAL arguments fetched from the memo (MEMOIZE/BINGET)', () => {
    // PROTO 4; 'posix' MEMOIZE POP; 'system' MEMOIZE POP; BINGET 0; BINGET 1; STACK_GLOBAL; ('x',) REDUCE STOP
    const data = bytes(
      PROTO4,
      su('posix'),
      [0x94, 0x30],
      su('system'),
      [0x94, 0x30],
      [0x68, 0, 0x68, 1, 0x93],
      su('x'),
      [0x85, 0x52, 0x2e],
    );
    const r = scanPickle(data);
    expect(r.error).toBeUndefined();
    expect(r.globals).toEqual(['posix.system']);
    expect(r.disallowed).toEqual(['posix.system']);
  });

  it('resolves STACK_GLOBAL arguments from text PUT/GET and LONG_BINPUT/LONG_BINGET', () => {
    const text = scanPickle(bytes('Vposix\np0\n0Vsystem\np1\n0g0\ng1\n\x93(Vx\ntR.'));
    expect(text.disallowed).toEqual(['posix.system']);
    const long = scanPickle(
      bytes(
        [0x80, 0x02],
        'X',
        u32(2),
        'nt',
        'r',
        u32(70000),
        '0',
        'X',
        u32(6),
        'system',
        'j',
        u32(70000),
        [0x8a, 0x00, 0x93, 0x2e],
      ),
    );
    expect(long.error).toMatch(/STACK_GLOBAL/); // the name is an int, not a str
    const ok = scanPickle(
      bytes(
        [0x80, 0x02],
        'X',
        u32(2),
        'nt',
        'r',
        u32(70000),
        '0',
        'j',
        u32(70000),
        'X',
        u32(6),
        'system',
        [0x93, 0x2e],
      ),
    );
    expect(ok.disallowed).toEqual(['nt.system']);
  });

  it('fails when STACK_GLOBAL arguments are not plain strings', () => {
    expectError(scanPickle(bytes(PROTO4, [0x4b, 1], su('system'), [0x93, 0x2e])), /STACK_GLOBAL/);
    // a raw-unicode-escape string is not decoded: unknown value
    expectError(scanPickle(bytes('Vpos\\u0069x\nVsystem\n\x93.')), /STACK_GLOBAL/);
  });

  it('does not let a dotted qualname walk out of an allowed name', () => {
    const r = scanPickle(bytes(PROTO4, su('sklearn.base'), su('os.system'), [0x93, 0x2e]));
    expect(r.disallowed).toEqual(['sklearn.base.os.system']);
  });

  it('refuses a general helper that scikit-learn re-exports (only listed classes pass)', () => {
    // sklearn.utils re-exports helpers that reach any callable; no sklearn.* prefix lets them in.
    for (const helper of ['sklearn.utils._available_if.available_if', 'sklearn.utils.deprecated']) {
      const dot = helper.lastIndexOf('.');
      const r = scanPickle(bytes(PROTO4, su(helper.slice(0, dot)), su(helper.slice(dot + 1)), [0x93, 0x2e]));
      expect(r.disallowed, helper).toEqual([helper]);
    }
  });

  it('never allows the hard-denied parts of sklearn or other joblib names', () => {
    const r = scanPickle(
      bytes(
        'csklearn.utils._testing\nassert_run_python_script_without_output\ncjoblib.numpy_pickle\nload\n0.',
      ),
    );
    expect(r.disallowed).toEqual([
      'sklearn.utils._testing.assert_run_python_script_without_output',
      'joblib.numpy_pickle.load',
    ]);
    expect(scanPickle(bytes('cjoblib\nload\n.'), ['joblib.load']).disallowed).toEqual(['joblib.load']);
  });

  it('rejects persistent ids', () => {
    expectError(scanPickle(bytes('P1\n.')), /persistent/);
    expectError(scanPickle(bytes([0x80, 0x02, 0x4b, 0x01, 0x51, 0x2e])), /persistent/);
  });

  it('rejects extension registry codes', () => {
    expectError(scanPickle(bytes([0x80, 0x02, 0x82, 0x01, 0x2e])), /extension/);
  });
});

describe('scanPickle: broken streams', () => {
  it('fails on truncated streams', () => {
    expectError(scanPickle(arrestsModel.subarray(0, 200)), /truncated|exhausted/);
    expectError(scanPickle(arrestsModel.subarray(0, arrestsModel.length - 1)));
    // cut inside the inline array bytes
    expectError(scanPickle(arrestsModel.subarray(0, 500)), /truncated/);
    expectError(scanPickle(new Uint8Array(0)), /empty/);
  });

  it('fails on garbage and unknown opcodes', () => {
    expectError(scanPickle(bytes('hello world')));
    expectError(scanPickle(bytes([0x80, 0x04, 0xff])), /unknown opcode 0xff/);
    expectError(scanPickle(bytes([0x80, 0x07, 0x4e, 0x2e])), /protocol/);
    expectError(scanPickle(bytes([0x30, 0x2e])), /MARK/); // POP on an empty stack pops a mark, like Python
    expectError(scanPickle(bytes([0x4e, 0x28, 0x61, 0x2e])), /underflow/); // APPEND cannot reach below a MARK
  });

  it('fails on compressed joblib files instead of guessing', () => {
    expectError(scanPickle(bytes([0x1f, 0x8b, 0x08, 0x00])), /compressed/);
  });

  it('fails on bytes after the final STOP', () => {
    expectError(scanPickle(bytes(arrestsModel, [0x4e])), /trailing/);
    expectError(scanPickle(bytes(fixture('pickle_p4'), fixture('evil_os_p4'))), /trailing/);
  });
});

describe('scanPickle: joblib smuggling', () => {
  it('sees opcodes placed right after an inline array', () => {
    const r = scanPickle(fixture('smuggle_after_array'));
    expect(r.error).toBeUndefined();
    expect(r.disallowed).toEqual(['posix.system']);
  });

  it('reads array bytes after the current frame, like pickle._Unframer', () => {
    // a scanner skipping the array inside the frame would jump over the payload
    const r = scanPickle(fixture('smuggle_build_mid_frame'));
    expect(r.error).toBeUndefined();
    expect(r.disallowed).toEqual(['posix.system']);
  });

  it('rejects a pickle appended after the final STOP', () => {
    const r = scanPickle(fixture('smuggle_after_stop'));
    expectError(r, /trailing/);
  });

  it('fails when the wrapper class escapes into a container', () => {
    // [NumpyArrayWrapper] then a sklearn object BUILD: after the escape a BUILD could turn
    // any object into a wrapper (via __class__), so the array size would be unknown
    const data = bytes(
      PROTO4,
      [0x5d],
      su('joblib.numpy_pickle'),
      su('NumpyArrayWrapper'),
      [0x93, 0x61, 0x30],
      'csklearn.base\nBaseEstimator\n',
      [0x29, 0x81, 0x7d, 0x62, 0x2e],
    );
    expectError(scanPickle(data), /wrapper/);
  });

  it('fails on a wrapper whose dtype it cannot size', () => {
    const wrapper = (dtype: string): Uint8Array =>
      bytes(
        PROTO4,
        su('joblib.numpy_pickle'),
        su('NumpyArrayWrapper'),
        [0x93, 0x29, 0x81, 0x7d, 0x28],
        su('shape'),
        [0x4b, 2, 0x85],
        su('dtype'),
        su('numpy'),
        su('dtype'),
        [0x93],
        su(dtype),
        [0x89, 0x88, 0x87, 0x52, 0x75, 0x62],
        [7, 8], // no numpy_array_alignment_bytes (joblib <= 1.1): no padding byte, 2 bytes of data
        [0x2e],
      );
    expect(scanPickle(wrapper('u1')).error).toBeUndefined();
    expectError(scanPickle(wrapper('f16')), /dtype/);
    expectError(scanPickle(wrapper('V2')), /dtype/);
  });
});

describe('allow-list', () => {
  it('matches exact names only', () => {
    const data = fixture('evil_os_p4');
    expect(isPickleSafe(scanPickle(data, ['posix.system']))).toBe(true);
    expect(isPickleSafe(scanPickle(data, ['posix.']))).toBe(false);
    expect(isPickleSafe(scanPickle(data, ['posix.sys']))).toBe(false);
    expect(isPickleSafe(scanPickle(data, ['posix']))).toBe(false);
  });

  it('keeps dangerous names out of the shipped allow-list', () => {
    for (const bad of [
      'builtins.eval',
      'builtins.exec',
      'builtins.getattr',
      'builtins.__import__',
      'os.system',
      'posix.system',
      'nt.system',
      'subprocess.Popen',
      'sys.modules',
      'importlib.import_module',
      'pickle.loads',
      'runpy.run_path',
      'numpy.load',
      'numpy.testing.',
      'scipy.sparse.load_npz',
    ]) {
      const [module, ...rest] = bad.split('.');
      const r = scanPickle(bytes(PROTO4, su(module ?? ''), su(rest.join('.') || 'x'), [0x93, 0x2e]));
      expect(r.disallowed.length, bad).toBe(1);
    }
    expect(ALLOW.filter((e) => !/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/.test(e))).toEqual([]);
  });
});

describe('large inputs', () => {
  // Speed is measured in bench/pickle-scan.ts; here only that large inputs scan correctly.
  it('scans a 50 MB joblib array and a million small opcodes', () => {
    const n = 50 * 1024 * 1024;
    const big = bytes(
      PROTO4,
      su('joblib.numpy_pickle'),
      su('NumpyArrayWrapper'),
      [0x93, 0x29, 0x81, 0x7d, 0x28],
      su('shape'),
      [0x4a, ...u32(n), 0x85],
      su('dtype'),
      su('numpy'),
      su('dtype'),
      [0x93],
      su('u1'),
      [0x89, 0x88, 0x87, 0x52],
      su('numpy_array_alignment_bytes'),
      [0x4b, 16, 0x75, 0x62, 0x00],
      new Uint8Array(n),
      [0x2e],
    );
    const many = bytes(
      PROTO4,
      [0x5d, 0x28],
      new Uint8Array(2_000_000).map((_, i) => (i % 2 === 0 ? 0x4b : 1)),
      [0x65, 0x2e],
    );
    expectSafe(scanPickle(big));
    expectSafe(scanPickle(many));
  });
});

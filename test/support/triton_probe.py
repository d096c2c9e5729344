"""Talks to a V2 endpoint the way a stock client does: NVIDIA's tritonclient (HTTP).

usage: triton_probe.py HOST:PORT MODEL REQUEST.json

Sends the rows of REQUEST.json (a V2 JSON request, one input per feature) three
ways: tritonclient's defaults (inputs in the binary tensor extension, outputs as
JSON), binary inputs and binary outputs, and JSON throughout. Prints one JSON
object: server live/ready/metadata, model ready/metadata, and each way's outputs
and the request id the server gave back.
"""

import json
import sys

import numpy as np
import tritonclient.http as httpclient

DTYPES = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32}


def main() -> None:
    url, model, request_file = sys.argv[1:4]
    request = json.loads(open(request_file).read())
    client = httpclient.InferenceServerClient(url)
    out = {
        "server_live": client.is_server_live(),
        "server_ready": client.is_server_ready(),
        "server_metadata": client.get_server_metadata(),
        "model_ready": client.is_model_ready(model),
        "model_metadata": client.get_model_metadata(model),
        "ways": {},
    }
    names = [o["name"] for o in out["model_metadata"]["outputs"]]
    for way, binary_in, binary_out in (("default", True, None), ("binary", True, True), ("json", False, False)):
        inputs = []
        for item in request["inputs"]:
            data = np.asarray(item["data"], dtype=DTYPES[item["datatype"]]).reshape(item["shape"])
            tensor = httpclient.InferInput(item["name"], list(data.shape), item["datatype"])
            tensor.set_data_from_numpy(data, binary_data=binary_in)
            inputs.append(tensor)
        outputs = None if binary_out is None else [
            httpclient.InferRequestedOutput(n, binary_data=binary_out) for n in names
        ]
        result = client.infer(model, inputs, outputs=outputs, request_id=f"probe-{way}")
        out["ways"][way] = {
            "id": result.get_response()["id"],
            "outputs": {n: result.as_numpy(n).tolist() for n in names},
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

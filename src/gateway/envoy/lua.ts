/**
 * The per-model request script. It runs in Envoy, not in Node: it finds the sticky key
 * (the x-paved-key header, else the first value of the model's entity-key input in the
 * V2 body) and puts it, salted with the model, in the header the route hashes on
 * (x-paved-sticky), and it marks a sampled share
 * of requests for capture; the access log then writes their bodies.
 */
const STICKY_LOOKUP = String.raw`
-- The first value of the tensor named INPUT, found with plain searches instead of a
-- full JSON parse (a parse per request costs more than the routing). V2 tensors are
-- flat objects, so the "data" after the last "{" before the tensor's "name" is its own.
-- A body this misreads loses only its stickiness: the model still gets every byte.
local function sticky_value(body, input)
  local s = string.find(body, '"name"%s*:%s*"' .. input .. '"')
  if s == nil then return nil end
  local open, from = nil, 1
  while true do
    local b = string.find(body, "{", from, true)
    if b == nil or b > s then break end
    open, from = b, b + 1
  end
  if open == nil then return nil end
  local _, d = string.find(body, '"data"%s*:%s*', open)
  if d == nil then return nil end
  local _, skipped = string.find(body, "^[%[%s]*", d + 1)
  local i = skipped + 1
  if string.sub(body, i, i) == '"' then
    local e = string.find(body, '"', i + 1, true)
    if e == nil or e == i + 1 then return nil end
    return string.sub(body, i + 1, e - 1)
  end
  local lit = string.match(body, "^[%w%.%+%-]+", i)
  if lit == nil or lit == "null" then return nil end
  return lit
end

local function read_body(h)
  local b = h:body()
  if b == nil or b:length() == 0 then return nil end
  return b:getBytes(0, b:length())
end
`;

export interface RouteScriptOptions {
  model: string;
  /** The V2 input whose first value is the sticky key, or null for header-only stickiness. */
  stickyInput: string | null;
  /** Share of POST requests captured for replay, 0..1. */
  captureRate: number;
}

export function routeScript(opts: RouteScriptOptions): string {
  const sticky = opts.stickyInput === null ? 'nil' : JSON.stringify(opts.stickyInput);
  return `${STICKY_LOOKUP}
local MODEL = ${JSON.stringify(opts.model)}
local STICKY = ${sticky}
local RATE = ${Number(opts.captureRate)}

function envoy_on_request(h)
  -- Handles taken before body() are dead after it (the body read yields): ask again.
  local post = h:headers():get(":method") == "POST"
  local body = nil
  local key = h:headers():get("x-paved-key")
  if key == nil and post and STICKY ~= nil then
    body = read_body(h)
    key = body and sticky_value(body, STICKY)
    if key ~= nil then h:headers():replace("x-paved-key", key) end
  end
  if key ~= nil then
    -- Salted with the model, so one user is not the canary of every model at once.
    h:headers():replace("x-paved-sticky", MODEL .. "/" .. key)
    h:clearRouteCache()
  end
  if post and RATE > 0 and math.random() < RATE then
    body = body or read_body(h)
    if body ~= nil then
      local meta = h:streamInfo():dynamicMetadata()
      meta:set("paved", "model", MODEL)
      meta:set("paved", "body", body)
    end
  end
end
`;
}

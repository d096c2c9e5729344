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
      -- A binary tensor body is raw bytes after its JSON header: base64, so the JSON log
      -- carries it whole; the control plane turns it back into the request it stands for.
      local binary = h:headers():get("inference-header-content-length")
      if binary ~= nil then
        meta:set("paved", "binary", binary)
        meta:set("paved", "body", h:base64Escape(body))
      else
        meta:set("paved", "body", body)
      end
    end
  end
end
`;
}

export interface DoorScriptOptions {
  owner: string;
  service: string;
  entityKey: string;
  /** Full feature names (view__feature). */
  features: readonly string[];
}

/**
 * The feature door's script: a model may ask for online features of its entity key,
 * from its bound service or a subset of its bound features, and nothing else. What
 * goes on to the feature server is rebuilt here from the entity ids alone, so no other
 * field of the model's request reaches it. A refusal is answered 403 and logged.
 */
export function doorScript(opts: DoorScriptOptions): string {
  const allowed = opts.features.map((f) => `[${JSON.stringify(f)}] = true`).join(', ');
  // Feast takes view:feature in a request and answers view__feature with full names.
  const refs = opts.features.map((f) => JSON.stringify(f.replace('__', ':'))).join(',');
  return String.raw`
local OWNER = ${JSON.stringify(opts.owner)}
local SERVICE = ${JSON.stringify(opts.service)}
local KEY = ${JSON.stringify(opts.entityKey)}
local ALLOWED = { ${allowed} }
local REFS = ${JSON.stringify(`[${refs}]`)}

local function refuse(h, reason)
  h:streamInfo():dynamicMetadata():set("paved", "refused", reason)
  h:logWarn("feature proxy refused " .. OWNER .. ": " .. reason)
  h:respond({ [":status"] = "403", ["content-type"] = "application/json" },
    '{"error":"feature proxy: ' .. string.gsub(reason, '"', "'") .. '"}')
end

function envoy_on_request(h)
  local method = h:headers():get(":method")
  local path = h:headers():get(":path")
  h:streamInfo():dynamicMetadata():set("paved", "owner", OWNER)
  if method ~= "POST" or path ~= "/get-online-features" then
    return refuse(h, method .. " " .. path .. " is not an online feature read")
  end
  local b = h:body()
  local body = b and b:getBytes(0, b:length()) or ""
  local service = string.match(body, '"feature_service"%s*:%s*"([^"]*)"')
  if service ~= nil and service ~= SERVICE then
    return refuse(h, "feature service " .. service .. " is not the one bound (" .. SERVICE .. ")")
  end
  local features = string.match(body, '"features"%s*:%s*(%b[])')
  if features ~= nil then
    for f in string.gmatch(features, '"([^"]*)"') do
      local full = string.gsub(f, ":", "__", 1)
      if not ALLOWED[full] then return refuse(h, "feature " .. f .. " is not in the binding") end
    end
  end
  if service == nil and features == nil then
    return refuse(h, "name the bound feature service or its features")
  end
  local entities = string.match(body, '"entities"%s*:%s*(%b{})')
  local ids = entities and string.match(entities, '^{%s*"' .. KEY .. '"%s*:%s*(%b[])%s*}$')
  if ids == nil then return refuse(h, "entities: only " .. KEY .. " may be read") end
  if string.find(string.sub(ids, 2, -2), "[%[%]{}]") then
    return refuse(h, "entities: " .. KEY .. " must be a flat list of ids")
  end
  h:body():setBytes('{"features":' .. REFS .. ',"entities":{"' .. KEY .. '":' .. ids .. '},"full_feature_names":true}')
end
`;
}

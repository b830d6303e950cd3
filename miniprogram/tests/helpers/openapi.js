// 与服务器的约定：tests/fixtures/openapi.json 是服务器 /api/openapi.json 的副本
// （由服务器的 tests/api/test_openapi_snapshot.py 核对和刷新）。这里用它检查：
//   - 小程序请求的路径和方法服务器有没有，查询参数和请求体对不对；
//   - 测试里假服务器的每个应答，是不是服务器真会给出的样子（按状态码找应答的 schema）。
// 校验器是自己写的一个小的 OpenAPI 3.0 子集：$ref、type、nullable、properties、
// additionalProperties、required、items、enum、anyOf/oneOf/allOf、最小最大值与长度、date-time。
const path = require('path')
const fs = require('fs')

const SNAPSHOT = path.join(__dirname, '..', 'fixtures', 'openapi.json')
const API_PREFIX = '/api/v1'

let cached = null
function spec() {
  if (!cached) cached = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8'))
  return cached
}

function resolveRef(ref, doc) {
  if (!ref.startsWith('#/')) throw new Error('只支持本文件内的 $ref：' + ref)
  return ref
    .slice(2)
    .split('/')
    .reduce((node, key) => {
      if (!node || !(key in node)) throw new Error('找不到 $ref：' + ref)
      return node[key]
    }, doc)
}

function deref(node, doc) {
  let n = node
  for (let i = 0; n && n.$ref && i < 20; i++) n = resolveRef(n.$ref, doc)
  return n
}

function typeOf(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v
}

function typeMatches(type, v) {
  const t = typeOf(v)
  if (type === 'number') return t === 'number' || t === 'integer'
  return t === type
}

// RFC 3339 的时间，要带时区
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

// 返回问题列表（空 = 符合）。at 是出错位置，例如 $.items[0].category
function validate(schema, value, at = '$', doc = spec()) {
  const s = deref(schema, doc)
  if (!s || typeof s !== 'object') return []
  const problems = []

  if (value === null) {
    if (s.nullable) return []
    // 没写 type 的（例如服务器的 readOnly 计算字段）什么值都行
    if (!s.type && !s.anyOf && !s.oneOf && !s.allOf && !s.enum) return []
  }

  if (s.allOf) s.allOf.forEach((sub) => problems.push(...validate(sub, value, at, doc)))
  if (s.anyOf && !s.anyOf.some((sub) => validate(sub, value, at, doc).length === 0)) {
    problems.push(`${at}: 不符合 anyOf 的任何一种（值是 ${short(value)}）`)
  }
  if (s.oneOf && s.oneOf.filter((sub) => validate(sub, value, at, doc).length === 0).length !== 1) {
    problems.push(`${at}: 不是恰好符合 oneOf 的一种（值是 ${short(value)}）`)
  }

  if (s.type && !typeMatches(s.type, value)) {
    problems.push(`${at}: 应为 ${s.type}${s.nullable ? '（或 null）' : ''}，实际是 ${typeOf(value)} ${short(value)}`)
    return problems
  }
  if (s.enum && !s.enum.some((e) => e === value)) {
    problems.push(`${at}: ${short(value)} 不在 ${JSON.stringify(s.enum)} 里`)
  }

  const t = typeOf(value)
  if (t === 'integer' || t === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) problems.push(`${at}: ${value} 小于 ${s.minimum}`)
    if (typeof s.maximum === 'number' && value > s.maximum) problems.push(`${at}: ${value} 大于 ${s.maximum}`)
  }
  if (t === 'string') {
    if (typeof s.minLength === 'number' && value.length < s.minLength) problems.push(`${at}: 少于 ${s.minLength} 个字`)
    if (typeof s.maxLength === 'number' && value.length > s.maxLength) problems.push(`${at}: 多于 ${s.maxLength} 个字`)
    if (s.format === 'date-time' && !DATE_TIME.test(value)) problems.push(`${at}: ${short(value)} 不是带时区的 date-time`)
  }
  if (t === 'array') {
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) problems.push(`${at}: 多于 ${s.maxItems} 项`)
    if (typeof s.minItems === 'number' && value.length < s.minItems) problems.push(`${at}: 少于 ${s.minItems} 项`)
    if (s.items) value.forEach((item, i) => problems.push(...validate(s.items, item, `${at}[${i}]`, doc)))
  }
  if (t === 'object') {
    const props = s.properties || {}
    ;(s.required || []).forEach((k) => {
      if (!(k in value)) problems.push(`${at}: 缺少必填字段 ${k}`)
    })
    Object.keys(value).forEach((k) => {
      if (k in props) {
        problems.push(...validate(props[k], value[k], `${at}.${k}`, doc))
      } else if (s.additionalProperties === false) {
        problems.push(`${at}: 服务器没有字段 ${k}`)
      } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        problems.push(...validate(s.additionalProperties, value[k], `${at}.${k}`, doc))
      }
    })
  }
  return problems
}

function short(v) {
  const text = JSON.stringify(v)
  return text === undefined ? String(v) : text.length > 60 ? text.slice(0, 57) + '...' : text
}

// —— 路径与参数 ——

function params(op, pathItem, where) {
  const all = (pathItem.parameters || []).concat(op.parameters || [])
  return all.map((p) => deref(p, spec())).filter((p) => p.in === where)
}

// 字符串形式的参数值按 schema 转成 JSON 值；转不了返回 undefined
function coerce(schema, raw) {
  const s = deref(schema, spec()) || {}
  if (s.type === 'array') {
    const list = Array.isArray(raw) ? raw : [raw]
    return list.map((x) => coerce(s.items || {}, x))
  }
  if (Array.isArray(raw)) return undefined
  switch (s.type) {
    case 'integer':
      return /^-?\d+$/.test(raw) ? Number(raw) : undefined
    case 'number':
      return raw !== '' && !isNaN(Number(raw)) ? Number(raw) : undefined
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined
    default:
      return raw
  }
}

function checkParam(p, raw, where) {
  const value = coerce(p.schema || {}, raw)
  if (value === undefined || (Array.isArray(value) && value.some((x) => x === undefined))) {
    return [`${where} ${p.name}=${short(raw)} 不是 ${(p.schema && p.schema.type) || '合法的值'}`]
  }
  return validate(p.schema || {}, value, `${where} ${p.name}`)
}

function templateRegex(template) {
  const names = []
  const re = new RegExp(
    '^' +
      template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (m, name) => {
        names.push(name)
        return '([^/]+)'
      }) +
      '$'
  )
  return { re, names }
}

// 找服务器上对应的操作：字面段多的优先（/tickets/nearby 先于 /tickets/{ticket_id}），
// 路径参数要符合类型（/tickets/t1 对不上 {ticket_id: integer}）
function findOperation(method, apiPath) {
  const full = API_PREFIX + apiPath
  const doc = spec()
  const candidates = []
  Object.keys(doc.paths).forEach((template) => {
    const pathItem = doc.paths[template]
    const op = pathItem[method.toLowerCase()]
    if (!op) return
    const { re, names } = templateRegex(template)
    const m = re.exec(full)
    if (!m) return
    const values = {}
    names.forEach((n, i) => {
      values[n] = decodeURIComponent(m[i + 1])
    })
    const bad = params(op, pathItem, 'path').some((p) => checkParam(p, values[p.name], 'path').length > 0)
    if (bad) return
    candidates.push({ template, op, pathItem, literal: names.length === 0 ? 1e6 : -names.length })
  })
  candidates.sort((a, b) => b.literal - a.literal)
  return candidates[0] || null
}

// —— 一次请求与应答 ——
// req: {method, path（去掉 /api/v1 的）, query（字符串值）, data, upload}
function checkRequest(req) {
  const found = findOperation(req.method, req.path)
  const label = `${req.method} ${req.path}`
  if (!found) return { found: null, problems: [`${label}: 服务器没有这个接口（或路径参数类型不对）`] }
  const { op, pathItem, template } = found
  const problems = []
  const queryParams = params(op, pathItem, 'query')
  const query = req.query || {}
  Object.keys(query).forEach((name) => {
    const p = queryParams.find((x) => x.name === name)
    if (!p) problems.push(`${label}: 服务器不认识查询参数 ${name}`)
    else problems.push(...checkParam(p, query[name], `${label} 查询参数`))
  })
  queryParams.forEach((p) => {
    if (p.required && !(p.name in query)) problems.push(`${label}: 缺少必填的查询参数 ${p.name}`)
  })

  const body = op.requestBody ? deref(op.requestBody, spec()) : null
  const content = (body && body.content) || {}
  if (req.upload) {
    const form = content['multipart/form-data']
    if (!form) problems.push(`${label}: 服务器不收上传的文件`)
    else {
      const fields = (deref(form.schema, spec()) || {}).properties || {}
      if (!(req.upload in fields)) problems.push(`${label}: 服务器不认识文件字段 ${req.upload}`)
    }
  } else if (content['application/json']) {
    problems.push(...validate(content['application/json'].schema, req.data === undefined ? {} : req.data, `${label} 请求体`))
  } else if (req.data !== undefined && req.data !== null && !(typeOf(req.data) === 'object' && !Object.keys(req.data).length)) {
    problems.push(`${label}: 这个接口不收请求体，却发了 ${short(req.data)}`)
  }
  return { found: { template, op }, problems }
}

// 服务器的错误信封总带 errors.detail（一句中文，见 server/errors.py 的 envelope）
function envelopeProblems(body, label) {
  const ok =
    body &&
    typeof body === 'object' &&
    typeof body.code === 'number' &&
    typeof body.status === 'string' &&
    typeof body.message === 'string' &&
    body.errors &&
    typeof body.errors.detail === 'string'
  return ok ? [] : [`${label}: 错误应答不是服务器的信封 {code, status, message, errors:{detail}}：${short(body)}`]
}

function checkResponse(req, status, body) {
  const label = `${req.method} ${req.path} → ${status}`
  const found = findOperation(req.method, req.path)
  if (!found) return [`${label}: 服务器没有这个接口`]
  const responses = found.op.responses || {}
  const declared = responses[String(status)] || responses.default
  if (!declared) return [`${label}: 服务器不会给这个状态码`]
  const response = deref(declared, spec())
  const problems = []
  if (status >= 400) problems.push(...envelopeProblems(body, label))
  const json = response.content && response.content['application/json']
  if (!json) {
    const empty = body === null || body === undefined || body === ''
    // 文档对这个应答的内容什么都没写（例如 GET /me/export 的 200 只有 "OK"）：没有 schema 可核对，
    // 只能收下。204 一定没有内容；写了别的内容类型（如 xlsx）的，也不会是 JSON。
    const undocumented = !response.content && status !== 204
    if (!empty && !undocumented) problems.push(`${label}: 服务器这里不给 JSON，测试却给了 ${short(body)}`)
    return problems
  }
  problems.push(...validate(json.schema, body, label))
  return problems
}

// 某个操作某个状态码的应答 schema（给测试直接校验用）
function responseSchema(method, apiPath, status) {
  const found = findOperation(method, apiPath)
  if (!found) throw new Error(`服务器没有 ${method} ${apiPath}`)
  const responses = found.op.responses || {}
  const response = deref(responses[String(status)] || responses.default, spec())
  return response.content['application/json'].schema
}

function schema(name) {
  const s = spec().components.schemas[name]
  if (!s) throw new Error('快照里没有 schema ' + name)
  return { $ref: '#/components/schemas/' + name }
}

module.exports = {
  SNAPSHOT,
  API_PREFIX,
  spec,
  validate,
  findOperation,
  checkRequest,
  checkResponse,
  responseSchema,
  schema,
}

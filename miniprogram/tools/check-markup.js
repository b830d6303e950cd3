#!/usr/bin/env node
// 构建检查：用官方编译器 wcc / wcsc（npm 包 miniprogram-compiler 自带）编译全部 WXML 和 WXSS，
// 再做几项静态检查：JSON 能解析、页面四件套齐全、标签都是已知组件、事件处理函数都存在。
// 有任何问题就列出来并以非零状态退出。
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')
const vm = require('vm')

// 小程序内置组件与 WXML 语法标签
const BUILTIN_TAGS = new Set([
  'block', 'template', 'import', 'include', 'slot', 'wxs',
  'view', 'scroll-view', 'swiper', 'swiper-item', 'movable-area', 'movable-view', 'cover-view', 'cover-image',
  'match-media', 'page-container', 'root-portal', 'share-element', 'grid-view', 'list-view', 'sticky-header',
  'sticky-section', 'icon', 'text', 'rich-text', 'progress', 'button', 'checkbox', 'checkbox-group', 'editor',
  'form', 'input', 'label', 'picker', 'picker-view', 'picker-view-column', 'radio', 'radio-group', 'slider',
  'switch', 'textarea', 'keyboard-accessory', 'navigator', 'functional-page-navigator', 'audio', 'camera',
  'image', 'video', 'live-player', 'live-pusher', 'voip-room', 'channel-live', 'channel-video', 'map', 'canvas',
  'web-view', 'ad', 'ad-custom', 'official-account', 'open-data', 'navigation-bar', 'page-meta',
])

function compilerDir() {
  return path.dirname(require.resolve('miniprogram-compiler/package.json'))
}

function binary(name) {
  const platform = { linux: 'linux', darwin: 'mac', win32: 'windows' }[process.platform]
  if (!platform) throw new Error(`没有适用于 ${process.platform} 的 ${name}`)
  if (platform === 'linux' && process.arch !== 'x64') throw new Error(`${name} 只有 x86_64 版本`)
  const file = path.join(compilerDir(), 'bin', platform, platform === 'windows' ? `${name}.exe` : name)
  try {
    fs.chmodSync(file, 0o755)
  } catch (e) {
    // 只读安装时忽略
  }
  return file
}

function walk(root, ext, out = [], dir = root) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) walk(root, ext, out, full)
    else if (entry.name.endsWith(ext)) out.push(path.relative(root, full).split(path.sep).join('/'))
  }
  return out.sort()
}

function readJson(file, problems) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (e) {
    problems.push(`${file}: JSON 无法解析：${e.message}`)
    return null
  }
}

function run(bin, args, cwd) {
  const res = spawnSync(bin, args, { cwd, maxBuffer: 64 * 1024 * 1024 })
  if (res.error) throw res.error
  return { status: res.status, stdout: res.stdout.toString(), stderr: res.stderr.toString() }
}

// 用 wcc 编译全部 WXML（整个项目一起编译，import / include 才能找到）
function compileWxml(root, files) {
  if (!files.length) return { problems: [], code: '' }
  const componentArgs = []
  let count = 0
  files.forEach((f) => {
    const json = path.join(root, f.replace(/\.wxml$/, '.json'))
    if (!fs.existsSync(json)) return
    let using = {}
    try {
      using = JSON.parse(fs.readFileSync(json, 'utf8')).usingComponents || {}
    } catch (e) {
      return
    }
    const names = Object.keys(using)
    if (!names.length) return
    count += 1
    componentArgs.push(f, String(names.length), ...names)
  })
  const args = ['-d', '-cc', [count].concat(componentArgs).join(' '), ...files, '-gn', '$gwx']
  const res = run(binary('wcc'), args, root)
  if (res.status !== 0) {
    return { problems: [`WXML 编译失败：\n${(res.stderr || res.stdout).trim()}`], code: '' }
  }
  return { problems: [], code: res.stdout }
}

// 用 wcsc 编译全部 WXSS
function compileWxss(root, files) {
  if (!files.length) return []
  const comp = files.filter((f) => fs.existsSync(path.join(root, f.replace(/\.wxss$/, '.json'))))
  const rest = files.filter((f) => comp.indexOf(f) < 0)
  const res = run(binary('wcsc'), ['-db', '-pc', String(comp.length), ...comp, ...rest], root)
  if (res.status !== 0) return [`WXSS 编译失败：\n${(res.stderr || res.stdout).trim()}`]
  return []
}

function stripWxml(src) {
  return src
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<wxs[^>]*>[\s\S]*?<\/wxs>/g, '<wxs></wxs>')
    .replace(/\{\{[\s\S]*?\}\}/g, '""')
}

function tagsOf(src) {
  const tags = new Set()
  const re = /<\s*([a-zA-Z][\w-]*)/g
  let m
  while ((m = re.exec(stripWxml(src)))) tags.add(m[1])
  return tags
}

function handlersOf(src) {
  const names = new Set()
  const re = /\s(?:bind|catch|capture-bind|capture-catch|mut-bind)(?::)?[a-z]+\s*=\s*"([^"{}]+)"/g
  let m
  while ((m = re.exec(stripWxml(src)))) names.add(m[1].trim())
  return names
}

function importsOf(src, fromFile, root) {
  const out = []
  const re = /<\s*(?:import|include)\s+src\s*=\s*"([^"]+)"/g
  let m
  while ((m = re.exec(src))) {
    const target = m[1].startsWith('/')
      ? path.join(root, m[1])
      : path.join(path.dirname(path.join(root, fromFile)), m[1])
    out.push(target.endsWith('.wxml') ? target : target + '.wxml')
  }
  return out
}

// 在沙箱里运行页面 / 组件的 JS（require 的本地模块一并运行，wx 是什么都不做的替身），
// 取出它交给 Component() / Page() 的定义。只看定义，不调用任何方法。
function loadDefinition(jsFile) {
  const cache = {}
  let definition = null
  const stub = new Proxy(function () {}, { get: (t, k) => (k === Symbol.toPrimitive ? () => '' : stub), apply: () => stub })
  function load(file) {
    if (cache[file]) return cache[file].exports
    const module = { exports: {} }
    cache[file] = module
    const own = file === jsFile
    const wrapper = vm.runInNewContext(
      `(function (require, module, exports, Component, Behavior, Page, App, getApp, wx) {${fs.readFileSync(file, 'utf8')}\n})`,
      { console: { log() {}, warn() {}, error() {} }, setTimeout, clearTimeout, setInterval, clearInterval },
      { filename: file, timeout: 5000 }
    )
    const requireFrom = (rel) => {
      if (!rel.startsWith('.') && !rel.startsWith('/')) return stub
      const target = path.resolve(path.dirname(file), rel)
      return load(target.endsWith('.js') ? target : target + '.js')
    }
    wrapper(
      requireFrom,
      module,
      module.exports,
      (def) => {
        if (own) definition = { kind: 'component', def: def || {} }
      },
      (def) => def || {},
      (def) => {
        if (own) definition = { kind: 'page', def: def || {} }
      },
      () => {},
      () => ({}),
      stub
    )
    return module.exports
  }
  load(jsFile)
  return definition
}

function functionKeys(obj) {
  return Object.keys(obj || {}).filter((k) => typeof obj[k] === 'function')
}

// 事件处理函数能用的名字：Component 的 methods（含 behaviors 的），Page 的顶层函数
function methodsOf(definition) {
  const names = new Set()
  if (!definition) return names
  if (definition.kind === 'page') {
    functionKeys(definition.def).forEach((k) => names.add(k))
    return names
  }
  const seen = new Set()
  const visit = (def) => {
    if (!def || typeof def !== 'object' || seen.has(def)) return
    seen.add(def)
    ;(def.behaviors || []).forEach(visit)
    functionKeys(def.methods).forEach((k) => names.add(k))
  }
  visit(definition.def)
  return names
}

// 源码里用到的位置接口（去掉注释后找 wx.xxx），都要在 app.json 的 requiredPrivateInfos 里声明
const LOCATION_APIS = ['getLocation', 'getFuzzyLocation', 'chooseLocation', 'choosePoi', 'chooseAddress', 'onLocationChange', 'startLocationUpdate', 'startLocationUpdateBackground']

function stripJsComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1')
}

function checkLocationDeclarations(root, appJson) {
  const problems = []
  const declared = (appJson && appJson.requiredPrivateInfos) || []
  const re = new RegExp(`\\bwx\\s*\\.\\s*(${LOCATION_APIS.join('|')})\\b`, 'g')
  walk(root, '.js').forEach((f) => {
    const src = stripJsComments(fs.readFileSync(path.join(root, f), 'utf8'))
    const used = new Set()
    let m
    while ((m = re.exec(src))) used.add(m[1])
    used.forEach((api) => {
      if (declared.indexOf(api) < 0) problems.push(`${f}: 用了 wx.${api}，但 app.json 的 requiredPrivateInfos 里没有声明 "${api}"（审核和运行时都会拒绝）`)
    })
  })
  return problems
}

// 无障碍：可点的自定义控件（view、text、image 上的 bindtap / catchtap）要有 aria-role；
// 勾选类角色要有 aria-checked，标签页类要有 aria-selected
const TAPPABLE_NEED_ROLE = new Set(['view', 'text', 'image', 'cover-view', 'cover-image'])
const STATE_FOR_ROLE = { checkbox: 'aria-checked', radio: 'aria-checked', switch: 'aria-checked', menuitemcheckbox: 'aria-checked', menuitemradio: 'aria-checked', tab: 'aria-selected', option: 'aria-selected' }

function openingTags(src) {
  const out = []
  const re = /<\s*([a-zA-Z][\w-]*)((?:\s+[^\s=>\/]+(?:\s*=\s*"[^"]*")?)*)\s*\/?>/g
  const clean = src.replace(/<!--[\s\S]*?-->/g, '')
  let m
  while ((m = re.exec(clean))) {
    const attrs = {}
    const are = /([^\s=>\/]+)(?:\s*=\s*"([^"]*)")?/g
    let a
    while ((a = are.exec(m[2]))) attrs[a[1]] = a[2] === undefined ? '' : a[2]
    out.push({ tag: m[1], attrs })
  }
  return out
}

function checkAccessibility(rel, src) {
  const problems = []
  openingTags(src).forEach(({ tag, attrs }) => {
    const tappable = Object.keys(attrs).some((k) => /^(bind|catch)(:)?(tap|longpress)$/.test(k))
    const label = attrs.id ? `#${attrs.id}` : attrs.class ? `.${attrs.class.split(/\s+/)[0]}` : ''
    if (tappable && TAPPABLE_NEED_ROLE.has(tag) && !('aria-role' in attrs)) {
      problems.push(`${rel}: 可点的 <${tag}${label ? ' ' + label : ''}> 没有 aria-role（读屏软件不知道它能点）`)
    }
    const need = STATE_FOR_ROLE[attrs['aria-role']]
    if (need && !(need in attrs)) problems.push(`${rel}: aria-role="${attrs['aria-role']}" 的 <${tag}${label ? ' ' + label : ''}> 缺少 ${need}`)
  })
  return problems
}

// 点击区域：可点的元素（按钮和带 bindtap / catchtap 的）用到的 class，在 WXSS 里写的
// height / min-height / width 不能小于 88rpx
const MIN_TARGET_RPX = 88

function tappableClasses(root) {
  const classes = new Set()
  walk(root, '.wxml').forEach((f) => {
    openingTags(fs.readFileSync(path.join(root, f), 'utf8')).forEach(({ tag, attrs }) => {
      const tappable = tag === 'button' || Object.keys(attrs).some((k) => /^(bind|catch)(:)?tap$/.test(k))
      if (!tappable || !attrs.class) return
      attrs.class
        .replace(/\{\{[\s\S]*?\}\}/g, ' ')
        .split(/\s+/)
        .filter(Boolean)
        .forEach((c) => classes.add(c))
    })
  })
  return classes
}

function checkTapTargets(rel, src, classes) {
  const problems = []
  const re = /([^{}]+)\{([^{}]*)\}/g
  let m
  while ((m = re.exec(src.replace(/\/\*[\s\S]*?\*\//g, '')))) {
    const selectors = m[1].split(',').map((x) => x.trim())
    // 只看以可点的 class 结尾的选择器（.btn-small、.tab、.btn[disabled]），不看它里面的子元素
    const hit = selectors.find((sel) => {
      const last = /\.([\w-]+)(?:\[[^\]]*\]|::?[\w-]+)*$/.exec(sel)
      return last && classes.has(last[1])
    })
    if (!hit) continue
    const decl = /(?:^|[;\s])(min-height|height|width)\s*:\s*(\d+(?:\.\d+)?)rpx/g
    let d
    while ((d = decl.exec(m[2]))) {
      if (Number(d[2]) < MIN_TARGET_RPX) problems.push(`${rel}: ${hit} 的 ${d[1]} 是 ${d[2]}rpx，可点的地方至少 ${MIN_TARGET_RPX}rpx`)
    }
  }
  return problems
}

// 对比度：同一条 WXSS 规则里同时写了前景色和背景色（十六进制）时，要达到 4.5:1
function luminance(hex) {
  let h = hex.replace('#', '')
  if (h.length === 3) h = h.split('').map((c) => c + c).join('')
  const [r, g, b] = [0, 2, 4].map((i) => {
    const v = parseInt(h.slice(i, i + 2), 16) / 255
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)
  })
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p)
  return (x + 0.05) / (y + 0.05)
}

function checkContrast(rel, src) {
  const problems = []
  const re = /([^{}]+)\{([^{}]*)\}/g
  let m
  while ((m = re.exec(src.replace(/\/\*[\s\S]*?\*\//g, '')))) {
    const fg = /(?:^|[;\s])color\s*:\s*(#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?)\b/.exec(m[2])
    const bg = /background(?:-color)?\s*:\s*(#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?)\b/.exec(m[2])
    if (!fg || !bg) continue
    const ratio = contrast(fg[1], bg[1])
    if (ratio < 4.5) problems.push(`${rel}: ${m[1].trim()} 的文字 ${fg[1]} 与背景 ${bg[1]} 对比度 ${ratio.toFixed(2)}:1，不到 4.5:1`)
  }
  return problems
}

function resolveComponent(root, fromFile, target) {
  return target.startsWith('/')
    ? path.join(root, target)
    : path.join(path.dirname(path.join(root, fromFile)), target)
}

// 静态检查：页面与组件的文件齐全、标签已知、处理函数存在
function checkStructure(root) {
  const problems = []
  const appJsonFile = path.join(root, 'app.json')
  const appJson = fs.existsSync(appJsonFile) ? readJson(appJsonFile, problems) : null
  const globalUsing = (appJson && appJson.usingComponents) || {}

  walk(root, '.json').forEach((f) => readJson(path.join(root, f), problems))

  if (appJson) {
    ;(appJson.pages || []).forEach((p) => {
      ;['.js', '.json', '.wxml', '.wxss'].forEach((ext) => {
        if (!fs.existsSync(path.join(root, p + ext))) problems.push(`app.json 里的页面 ${p} 缺少 ${p}${ext}`)
      })
    })
  }

  walk(root, '.wxml').forEach((f) => {
    const base = f.replace(/\.wxml$/, '')
    const jsonFile = path.join(root, base + '.json')
    const jsFile = path.join(root, base + '.js')
    if (!fs.existsSync(jsonFile)) return // 模板片段：由引用它的页面检查
    let json = {}
    try {
      json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'))
    } catch (e) {
      return
    }
    const using = Object.assign({}, globalUsing, json.usingComponents || {})
    Object.keys(json.usingComponents || {}).forEach((name) => {
      const comp = resolveComponent(root, f, json.usingComponents[name])
      ;['.js', '.json', '.wxml'].forEach((ext) => {
        if (!fs.existsSync(comp + ext)) problems.push(`${f}: 组件 <${name}> 找不到 ${path.relative(root, comp)}${ext}`)
      })
    })

    const sources = [path.join(root, f)]
    for (let i = 0; i < sources.length; i++) {
      if (!fs.existsSync(sources[i])) {
        problems.push(`${f}: 引用的 ${path.relative(root, sources[i])} 不存在`)
        continue
      }
      importsOf(fs.readFileSync(sources[i], 'utf8'), path.relative(root, sources[i]), root).forEach((t) => {
        if (sources.indexOf(t) < 0) sources.push(t)
      })
    }
    let definition = null
    if (fs.existsSync(jsFile)) {
      try {
        definition = loadDefinition(jsFile)
        if (!definition) problems.push(`${base}.js 没有调用 Component() 或 Page()`)
      } catch (e) {
        problems.push(`${base}.js 无法加载：${e.message}`)
      }
    }
    const methods = methodsOf(definition)
    const isPage = appJson && (appJson.pages || []).indexOf(base) >= 0
    if (isPage && definition) {
      const own = definition.kind === 'page' ? definition.def : definition.def.methods || {}
      const enabled = json.enablePullDownRefresh === true || (json.enablePullDownRefresh !== false && !!(appJson.window && appJson.window.enablePullDownRefresh))
      if (typeof own.onPullDownRefresh === 'function' && !enabled) {
        problems.push(`${base}: 有 onPullDownRefresh，但 ${base}.json 没有 "enablePullDownRefresh": true（下拉刷新不会触发）`)
      }
    }
    sources.filter((s) => fs.existsSync(s)).forEach((s) => {
      const src = fs.readFileSync(s, 'utf8')
      const rel = path.relative(root, s)
      tagsOf(src).forEach((tag) => {
        if (!BUILTIN_TAGS.has(tag) && !using[tag]) problems.push(`${rel}: 未知标签 <${tag}>（不是内置组件，也没有在 usingComponents 里声明）`)
      })
      handlersOf(src).forEach((h) => {
        if (!methods.has(h)) problems.push(`${rel}: 事件处理函数 ${h} 不是 ${base}.js 里的方法（methods 或 behaviors 里没有）`)
      })
      checkAccessibility(rel, src).forEach((p) => {
        if (problems.indexOf(p) < 0) problems.push(p)
      })
    })
  })
  problems.push(...checkLocationDeclarations(root, appJson))
  const targets = tappableClasses(root)
  walk(root, '.wxss').forEach((f) => {
    const src = fs.readFileSync(path.join(root, f), 'utf8')
    problems.push(...checkContrast(f, src), ...checkTapTargets(f, src, targets))
  })
  return problems
}

// 把编译结果在沙箱里跑一遍（空数据渲染每个页面和组件），
// 捕捉只在运行时才报的错误，如 import 路径不对、模板名不存在
function renderSmoke(root, code) {
  const problems = []
  const report = (...args) => {
    const text = args.map(String).join(' ')
    if (/WXMLRT|not found|error/i.test(text)) problems.push(`WXML 运行时错误：${text}`)
  }
  const sandbox = {
    console: { log: report, info: report, warn: report, error: report, debug: report, group() {}, groupEnd() {} },
    navigator: { userAgent: '' },
    __wxAppCode__: {},
    __webview_engine_version__: 0.02,
  }
  sandbox.window = sandbox
  sandbox.global = sandbox
  vm.createContext(sandbox)
  let gwx
  try {
    vm.runInContext(`${code}\n;this.__gwx = $gwx;`, sandbox, { timeout: 10000 })
    gwx = sandbox.__gwx
  } catch (e) {
    return [`WXML 编译结果无法执行：${e.message}`]
  }
  walk(root, '.wxml')
    .filter((f) => fs.existsSync(path.join(root, f.replace(/\.wxml$/, '.json'))))
    .forEach((f) => {
      try {
        const generate = gwx(f)
        if (typeof generate !== 'function') {
          problems.push(`${f}: 编译结果里没有这个文件`)
          return
        }
        generate({}, {}, sandbox.global)
      } catch (e) {
        problems.push(`${f}: 渲染出错：${e.message}`)
      }
    })
  return problems
}

// 检查一个小程序目录，返回问题列表（空表示通过）
function check(root) {
  const wxml = compileWxml(root, walk(root, '.wxml'))
  const smoke = wxml.code ? renderSmoke(root, wxml.code) : []
  return [].concat(wxml.problems, smoke, compileWxss(root, walk(root, '.wxss')), checkStructure(root))
}

module.exports = { check, compileWxml, compileWxss, checkStructure, renderSmoke, walk, contrast }

if (require.main === module) {
  const root = path.resolve(process.argv[2] || path.join(__dirname, '..', 'src'))
  const problems = check(root)
  if (problems.length) {
    console.error(`WXML/WXSS 检查发现 ${problems.length} 个问题：`)
    problems.forEach((p) => console.error(' - ' + p))
    process.exit(1)
  }
  console.log(`WXML/WXSS 检查通过：${walk(root, '.wxml').length} 个 WXML，${walk(root, '.wxss').length} 个 WXSS`)
}

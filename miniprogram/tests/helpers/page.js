const path = require('path')
const simulate = require('miniprogram-simulate')

const SRC = path.join(__dirname, '..', '..', 'src')

// 每个测试文件每个页面只 load 一次（同一路径 load 两次会渲染不出来）
function loadPage(rel) {
  return simulate.load(path.join(SRC, rel), { rootPath: SRC })
}

function render(id, props) {
  const comp = simulate.render(id, props)
  comp.attach(document.createElement('parent-wrapper'))
  return comp
}

// 等页面里的异步请求都跑完
async function settle(rounds = 6) {
  for (let i = 0; i < rounds; i++) await simulate.sleep(5)
}

function tap(comp, selector) {
  const node = comp.querySelector(selector)
  if (!node) throw new Error('no node ' + selector)
  node.dispatchEvent('tap')
}

function text(comp, selector) {
  const node = comp.querySelector(selector)
  return node ? node.dom.textContent.trim() : null
}

module.exports = { SRC, loadPage, render, settle, tap, text, simulate }

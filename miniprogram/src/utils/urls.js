// 服务器地址：按小程序版本选主机；照片等服务器给的相对地址（/media/...）补上主机。
const config = require('../config')

function envVersion() {
  try {
    const info = wx.getAccountInfoSync()
    return (info && info.miniProgram && info.miniProgram.envVersion) || 'develop'
  } catch (e) {
    return 'develop'
  }
}

// 主机，不带路径：http://127.0.0.1:8000
function host() {
  const h = config.hosts[envVersion()] || config.hosts.release
  return h.replace(/\/+$/, '')
}

// 接口地址：http://127.0.0.1:8000/api/v1
function baseUrl() {
  return host() + config.apiPrefix
}

// 服务器给的照片地址是相对的（/media/2026/11/ab/….jpg），<image> 要完整地址
function mediaUrl(url) {
  if (!url) return ''
  if (/^(https?:)?\/\//.test(url) || /^(wxfile|data|blob):/.test(url)) return url
  return host() + (url.charAt(0) === '/' ? url : '/' + url)
}

module.exports = { envVersion, host, baseUrl, mediaUrl }

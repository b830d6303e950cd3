// 服务器地址：按小程序版本（开发版 / 体验版 / 正式版）区分。
// 上线前把 trial、release 改成已在小程序后台登记的 https 域名。
module.exports = {
  hosts: {
    develop: 'http://127.0.0.1:8000',
    trial: 'https://gongzhi-trial.example.cn',
    release: 'https://gongzhi.example.cn',
  },
  apiPrefix: '/api/v1',
  // 仅开发版：服务器开着 DEV_LOGIN 时，填一个名字（如 'zhang'）就用 dev:<名字> 登录，
  // 不调用 wx.login。留空则照常用 wx.login。
  devLoginName: '',
  // 网络断开时自动重试的次数（重试沿用同一个 Idempotency-Key）
  networkRetries: 2,
  // 第 n 次重试前等待 n × retryDelayMs 毫秒
  retryDelayMs: 800,
  timeoutMs: 15000,
  // 订阅消息模板列表的缓存时间
  templatesCacheMs: 24 * 3600 * 1000,
}

// The wall screen: one Server-Sent Events stream (read with fetch so the token travels in a header,
// never in a URL the server logs), drawn with ECharts. The token comes from the URL fragment (never
// sent to the server as part of the URL) or the login form, and stays in this tab's sessionStorage.
(function () {
  const yuan = (fen) => (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const $ = (id) => document.getElementById(id);
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromFragment) {
    sessionStorage.setItem('dashboardToken', fromFragment);
    history.replaceState(null, '', location.pathname);
  }
  const token = sessionStorage.getItem('dashboardToken');
  if (!token) {
    $('login').hidden = false;
    $('login').addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem('dashboardToken', $('token').value.trim());
      location.reload();
    });
    return;
  }
  $('screen').hidden = false;
  setInterval(() => ($('clock').textContent = new Date().toLocaleTimeString('zh-CN')), 1000);

  const theme = { backgroundColor: 'transparent', textStyle: { fontSize: 18 } };
  const perMinute = echarts.init($('per-minute'), 'dark');
  const topSkus = echarts.init($('top-skus'), 'dark');
  const flashSales = echarts.init($('flash-sales'), 'dark');
  const channels = echarts.init($('channels'), 'dark');
  const CHANNEL_NAMES = { app: 'App', mini_program: '小程序', h5: 'H5', live_stream: '直播间', pos: '门店 POS', unknown: '其他' };

  function draw(s) {
    $('gmv').textContent = yuan(s.gmvFen);
    $('gmv').dataset.fen = String(s.gmvFen);
    $('orders').textContent = String(s.orders);
    $('placed').textContent = yuan(s.placedFen);
    $('refunds').textContent = String(s.refundQueue.pending);
    $('oldest-refund').textContent = s.refundQueue.oldestPendingSince ? 'oldest since ' + new Date(s.refundQueue.oldestPendingSince).toLocaleString('zh-CN') : '';
    $('attention').textContent = String(s.needsAttention);
    $('groups').textContent = s.groupBuys.forming + '·' + s.groupBuys.formed + '·' + s.groupBuys.failed;
    $('low-stock').replaceChildren(...s.lowStockAlerts.map((a) => Object.assign(document.createElement('li'), { textContent: a.skuId + ': ' + a.available + ' left (≤ ' + a.threshold + ')' })));
    perMinute.setOption({ ...theme, title: { text: '每分钟订单 Orders / min' }, xAxis: { type: 'category', data: s.ordersPerMinute.map((p) => p.minute) }, yAxis: { type: 'value', minInterval: 1 }, series: [{ type: 'line', smooth: true, areaStyle: {}, data: s.ordersPerMinute.map((p) => p.orders) }] });
    topSkus.setOption({ ...theme, title: { text: '热销 SKU Top SKUs (¥)' }, grid: { left: 140 }, xAxis: { type: 'value' }, yAxis: { type: 'category', inverse: true, data: s.topSkus.map((k) => k.skuId) }, series: [{ type: 'bar', data: s.topSkus.map((k) => k.gmvFen / 100) }] });
    channels.setOption({ ...theme, title: { text: '渠道 Channels (orders)' }, tooltip: {}, series: [{ type: 'pie', radius: ['35%', '65%'], top: 30, label: { formatter: '{b}: {c}' },
      data: s.channels.map((c) => ({ name: CHANNEL_NAMES[c.channel] || c.channel, value: c.orders })) }] });
    flashSales.setOption({ ...theme, title: { text: '秒杀进度 Flash sales (sold / reserved / left)' }, legend: { top: 40 }, grid: { left: 160, top: 90 }, xAxis: { type: 'value' }, yAxis: { type: 'category', data: s.flashSales.map((f) => f.campaignId) },
      series: ['sold', 'reserved', 'left'].map((name) => ({ name, type: 'bar', stack: 'pool', data: s.flashSales.map((f) => f[name]) })) });
  }

  async function listen() {
    try {
      const response = await fetch('/dashboard/stream', { headers: { Authorization: 'Bearer ' + token, Accept: 'text/event-stream' } });
      if (response.status === 401 || response.status === 403) {
        sessionStorage.removeItem('dashboardToken');
        $('status').textContent = 'token refused (' + response.status + ')';
        return;
      }
      $('status').textContent = 'live';
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
          if (data) draw(JSON.parse(data));
        }
      }
    } catch (error) {
      $('status').textContent = 'reconnecting…';
    }
    setTimeout(listen, 2000);
  }
  listen();
})();

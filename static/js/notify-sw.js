// The waiting room's service worker, for one thing only: showing the "your turn"
// notification. Chrome on Android shows notifications only through a service worker
// (`new Notification` throws there), and most buyers wait on a phone. It caches nothing
// and handles no fetch: the pages stay as the server sends them.
//
// A tap on the notification brings the buyer's tab to the front (or opens the page the
// notification names).

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data?.url;
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const tab = tabs.find((c) => url && c.url.includes(new URL(url, self.location.origin).pathname)) ?? tabs[0];
    if (tab) return tab.focus();
    if (url) return self.clients.openWindow(url);
    return undefined;
  })());
});

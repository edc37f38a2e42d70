/* modelgov: run Material's search worker on file:// pages (see modelgov.render.mkdocs_site). */
(function () {
  "use strict";
  if (location.protocol !== "file:" || typeof EventTarget !== "function") return;
  class FileWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this.frame = document.createElement("iframe");
      this.frame.hidden = true;
      document.body.appendChild(this.frame);
      const scope = this.frame.contentWindow;
      const doc = scope.document;
      doc.open();
      doc.write("<!doctype html><html><head></head><body></body></html>");
      doc.close();
      const deliver = (data) => {
        const event = new MessageEvent("message", { data: data });
        this.dispatchEvent(event);
        if (typeof this.onmessage === "function") this.onmessage(event);
      };
      const load = (src) => new Promise((resolve, reject) => {
        const script = doc.createElement("script");
        script.onload = () => resolve();
        script.onerror = () => reject(new Error("cannot load " + src));
        script.src = src;
        doc.body.appendChild(script);
      });
      scope.postMessage = (data) => setTimeout(() => deliver(data), 0);
      scope.importScripts = (...urls) => urls.reduce((done, src) => done.then(() => load(src)), Promise.resolve());
      this.ready = load(String(url)).catch((error) => {
        const event = new ErrorEvent("error", { message: String(error), error: error });
        this.dispatchEvent(event);
        if (typeof this.onerror === "function") this.onerror(event);
        throw error;
      });
    }
    postMessage(data) {
      this.ready.then(() => {
        const scope = this.frame.contentWindow;
        scope.dispatchEvent(new scope.MessageEvent("message", { data: data }));
      }, () => {});
    }
    terminate() {
      this.frame.remove();
    }
  }
  window.Worker = FileWorker;
})();

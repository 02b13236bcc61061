// QR images by receipt id and size, kept across refreshes so that a row's image is not loaded again.

import { authHeaders, storedToken } from "./api.js";
import { el } from "./dom.js";
import { T } from "./texts.js";

const qrImages = new Map();

function qrUrl(id) {
  return `/v1/kkt/receipt/${encodeURIComponent(id)}/qr.svg`;
}

export function qrImage(id, size) {
  const key = `${size}:${id}`;
  let img = qrImages.get(key);
  if (img) return img;
  img = el("img", { class: "qr " + size, alt: T.qrAlt, "data-testid": "qr", "data-receipt-id": id });
  img.addEventListener("error", () => {
    img.classList.add("broken");
    setTimeout(() => qrImages.delete(key), 30000); // try again later (the endpoint may come back)
  });
  if (storedToken()) {
    // An <img> cannot send a header: fetch the image with the token and show it from memory.
    fetch(qrUrl(id), { headers: authHeaders() })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error("HTTP " + r.status))))
      .then((blob) => {
        img.src = URL.createObjectURL(blob);
      })
      .catch(() => img.dispatchEvent(new Event("error")));
  } else {
    img.src = qrUrl(id);
  }
  qrImages.set(key, img);
  return img;
}

// Drop the images of receipts no longer shown (``keep`` holds the receipt ids still shown).
export function forgetImages(keep) {
  for (const [key, img] of qrImages) {
    if (!keep.has(key.slice(key.indexOf(":") + 1))) {
      if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
      qrImages.delete(key);
    }
  }
}

// Drop every image: the token changed, so each is fetched again the new way.
export function forgetAllImages() {
  qrImages.clear();
}

export function hasQr(receipt) {
  return Boolean(receipt.fiscal_doc && receipt.fiscal_doc.qr_code_data);
}

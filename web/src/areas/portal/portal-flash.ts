/** A line the filing page leaves for the order page it opens ("Filed: in review"). */
let flash = '';

export function setPortalFlash(message: string): void {
  flash = message;
}

export function takePortalFlash(): string {
  const m = flash;
  flash = '';
  return m;
}

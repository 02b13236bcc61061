// What the page remembers between refreshes, shared by its parts.

export const state = {
  health: null, // the last GET /v1/health
  buffer: null, // the last GET /v1/kkt/buffer/status
  shift: null, // the last GET /v1/kkt/shift (asked less often: it is read from the device)
  fn: null, // the last GET /v1/kkt/fn (likewise)
  query: null, // the search shown, or null for the latest documents
  deviceFilter: null, // the device whose documents are listed, or null for every device
  openSingleHit: false, // open the only hit of the search just submitted
  selected: null, // the receipt id of the open document
  deviceReadAt: 0, // when the shift and the FN were last read (ms)
  deviceMark: null, // what the device had counted when they were last read
  busy: false, // a refresh runs
  deviceBusy: false, // a read of the shift and the FN runs
  again: false, // a refresh was asked for while one ran
  timer: null, // the next refresh
};

// Where the servers of the client and peer tests are: js_test.go starts
// the walkthrough service over HTTP and to peers, and a chat room to
// peers, and passes their URLs in the environment.

/** The walkthrough's HTTP root, its peer endpoint, the chat room's peer endpoint. */
export const httpURL = process.env.GLYPH_WALKTHROUGH_URL ?? "";
export const peerURL = process.env.GLYPH_WALKTHROUGH_PEER_URL ?? "";
export const chatURL = process.env.GLYPH_CHAT_PEER_URL ?? "";
/** A peer whose method "call" calls back its caller: [method, argument, items...]. */
export const backURL = process.env.GLYPH_BACK_PEER_URL ?? "";

/** The skip reason of a test that needs the servers, or false. */
export const needServers =
  httpURL && peerURL && chatURL && backURL ? false : "needs the walkthrough servers: run go test ./js, which starts them";

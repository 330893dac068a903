export const id = 222;
export const ids = [222];
export const modules = {

/***/ 73222:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

const raw_connect = (__webpack_require__(34952)/* .connect */ .N);
const ChannelModel = (__webpack_require__(45143)/* .ChannelModel */ .tW);
const promisify = (__webpack_require__(57975).promisify);
const recovery = __webpack_require__(95499);

function connect(url, connOptions) {
  const {connectionOptions, recovery: recoveryOptions} = recovery.splitConnectionOptions(connOptions);
  if (recovery.recoveryEnabled(recoveryOptions)) {
    const openModel = () => promisify((cb) => raw_connect(url, connectionOptions, cb))().then((conn) => new ChannelModel(conn));

    return recovery.connectWithRecoveryPromise(openModel, recoveryOptions);
  }

  return promisify((cb) => raw_connect(url, connectionOptions, cb))().then((conn) => new ChannelModel(conn));
}

module.exports.connect = connect;
module.exports.credentials = __webpack_require__(17812);
module.exports.IllegalOperationError = __webpack_require__(41428).IllegalOperationError;


/***/ }),

/***/ 66740:
/***/ ((module) => {

/*
The channel (promise) and callback APIs have similar signatures, and
in particular, both need AMQP fields prepared from the same arguments
and options. The arguments marshalling is done here. Each of the
procedures below takes arguments and options (the latter in an object)
particular to the operation it represents, and returns an object with
fields for handing to the encoder.
*/

// A number of AMQP methods have a table-typed field called
// `arguments`, that is intended to carry extension-specific
// values. RabbitMQ uses this in a number of places; e.g., to specify
// an 'alternate exchange'.
//
// Many of the methods in this API have an `options` argument, from
// which I take both values that have a default in AMQP (e.g.,
// autoDelete in QueueDeclare) *and* values that are specific to
// RabbitMQ (e.g., 'alternate-exchange'), which would normally be
// supplied in `arguments`. So that extensions I don't support yet can
// be used, I include `arguments` itself among the options.
//
// The upshot of this is that I often need to prepare an `arguments`
// value that has any values passed in `options.arguments` as well as
// any I've promoted to being options themselves. Since I don't want
// to mutate anything passed in, the general pattern is to create a
// fresh object with the `arguments` value given as its prototype; all
// fields in the supplied value will be serialised, as well as any I
// set on the fresh object. What I don't want to do, however, is set a
// field to undefined by copying possibly missing field values,
// because that will mask a value in the prototype.
//
// NB the `arguments` field already has a default value of `{}`, so
// there's no need to explicitly default it unless I'm setting values.
function setIfDefined(obj, prop, value) {
  if (value !== undefined) obj[prop] = value;
}

const EMPTY_OPTIONS = Object.freeze({});

const Args = {};

Args.assertQueue = (queue, options) => {
  queue = queue || '';
  options = options || EMPTY_OPTIONS;

  const argt = Object.create(options.arguments || null);
  setIfDefined(argt, 'x-expires', options.expires);
  setIfDefined(argt, 'x-message-ttl', options.messageTtl);
  setIfDefined(argt, 'x-dead-letter-exchange', options.deadLetterExchange);
  setIfDefined(argt, 'x-dead-letter-routing-key', options.deadLetterRoutingKey);
  setIfDefined(argt, 'x-max-length', options.maxLength);
  setIfDefined(argt, 'x-max-priority', options.maxPriority);
  setIfDefined(argt, 'x-overflow', options.overflow);
  setIfDefined(argt, 'x-queue-mode', options.queueMode);

  return {
    queue: queue,
    exclusive: !!options.exclusive,
    durable: options.durable === undefined ? true : options.durable,
    autoDelete: !!options.autoDelete,
    arguments: argt,
    passive: false,
    // deprecated but we have to include it
    ticket: 0,
    nowait: false,
  };
};

Args.checkQueue = (queue) => ({
  queue: queue,
  passive: true, // switch to "completely different" mode
  nowait: false,
  durable: true,
  autoDelete: false,
  exclusive: false, // ignored
  ticket: 0,
});

Args.deleteQueue = (queue, options) => {
  options = options || EMPTY_OPTIONS;
  return {
    queue: queue,
    ifUnused: !!options.ifUnused,
    ifEmpty: !!options.ifEmpty,
    ticket: 0,
    nowait: false,
  };
};

Args.purgeQueue = (queue) => ({
  queue: queue,
  ticket: 0,
  nowait: false,
});

Args.bindQueue = (queue, source, pattern, argt) => ({
  queue: queue,
  exchange: source,
  routingKey: pattern,
  arguments: argt,
  ticket: 0,
  nowait: false,
});

Args.unbindQueue = (queue, source, pattern, argt) => ({
  queue: queue,
  exchange: source,
  routingKey: pattern,
  arguments: argt,
  ticket: 0,
  nowait: false,
});

Args.assertExchange = (exchange, type, options) => {
  options = options || EMPTY_OPTIONS;
  const argt = Object.create(options.arguments || null);
  setIfDefined(argt, 'alternate-exchange', options.alternateExchange);
  return {
    exchange: exchange,
    ticket: 0,
    type: type,
    passive: false,
    durable: options.durable === undefined ? true : options.durable,
    autoDelete: !!options.autoDelete,
    internal: !!options.internal,
    nowait: false,
    arguments: argt,
  };
};

Args.checkExchange = (exchange) => ({
  exchange: exchange,
  passive: true, // switch to 'may as well be another method' mode
  nowait: false,
  // ff are ignored
  durable: true,
  internal: false,
  type: '',
  autoDelete: false,
  ticket: 0,
});

Args.deleteExchange = (exchange, options) => {
  options = options || EMPTY_OPTIONS;
  return {
    exchange: exchange,
    ifUnused: !!options.ifUnused,
    ticket: 0,
    nowait: false,
  };
};

Args.bindExchange = (dest, source, pattern, argt) => ({
  source: source,
  destination: dest,
  routingKey: pattern,
  arguments: argt,
  ticket: 0,
  nowait: false,
});

Args.unbindExchange = (dest, source, pattern, argt) => ({
  source: source,
  destination: dest,
  routingKey: pattern,
  arguments: argt,
  ticket: 0,
  nowait: false,
});

// It's convenient to construct the properties and the method fields
// at the same time, since in the APIs, values for both can appear in
// `options`. Since the property or mthod field names don't overlap, I
// just return one big object that can be used for both purposes, and
// the encoder will pick out what it wants.
Args.publish = (exchange, routingKey, options) => {
  options = options || EMPTY_OPTIONS;

  // The CC and BCC fields expect an array of "longstr", which would
  // normally be buffer values in JavaScript; however, since a field
  // array (or table) cannot have shortstr values, the codec will
  // encode all strings as longstrs anyway.
  function convertCC(cc) {
    if (cc === undefined) {
      return undefined;
    } else if (Array.isArray(cc)) {
      return cc.map(String);
    } else return [String(cc)];
  }

  const headers = Object.create(options.headers || null);
  setIfDefined(headers, 'CC', convertCC(options.CC));
  setIfDefined(headers, 'BCC', convertCC(options.BCC));

  let deliveryMode; // undefined will default to 1 (non-persistent)

  // Previously I overloaded deliveryMode be a boolean meaning
  // 'persistent or not'; better is to name this option for what it
  // is, but I need to have backwards compatibility for applications
  // that either supply a numeric or boolean value.
  if (options.persistent !== undefined) deliveryMode = options.persistent ? 2 : 1;
  else if (typeof options.deliveryMode === 'number') deliveryMode = options.deliveryMode;
  else if (options.deliveryMode)
    // is supplied and truthy
    deliveryMode = 2;

  let expiration = options.expiration;
  if (expiration !== undefined) expiration = expiration.toString();

  return {
    // method fields
    exchange: exchange,
    routingKey: routingKey,
    mandatory: !!options.mandatory,
    immediate: false, // RabbitMQ doesn't implement this any more
    ticket: undefined,
    // properties
    contentType: options.contentType,
    contentEncoding: options.contentEncoding,
    headers: headers,
    deliveryMode: deliveryMode,
    priority: options.priority,
    correlationId: options.correlationId,
    replyTo: options.replyTo,
    expiration: expiration,
    messageId: options.messageId,
    timestamp: options.timestamp,
    type: options.type,
    userId: options.userId,
    appId: options.appId,
    clusterId: undefined,
  };
};

Args.consume = (queue, options) => {
  options = options || EMPTY_OPTIONS;
  const argt = Object.create(options.arguments || null);
  setIfDefined(argt, 'x-priority', options.priority);
  return {
    ticket: 0,
    queue: queue,
    consumerTag: options.consumerTag || '',
    noLocal: !!options.noLocal,
    noAck: !!options.noAck,
    exclusive: !!options.exclusive,
    nowait: false,
    arguments: argt,
  };
};

Args.cancel = (consumerTag) => ({
  consumerTag: consumerTag,
  nowait: false,
});

Args.get = (queue, options) => {
  options = options || EMPTY_OPTIONS;
  return {
    ticket: 0,
    queue: queue,
    noAck: !!options.noAck,
  };
};

Args.ack = (tag, allUpTo) => ({
  deliveryTag: tag,
  multiple: !!allUpTo,
});

Args.nack = (tag, allUpTo, requeue) => ({
  deliveryTag: tag,
  multiple: !!allUpTo,
  requeue: requeue === undefined ? true : requeue,
});

Args.reject = (tag, requeue) => ({
  deliveryTag: tag,
  requeue: requeue === undefined ? true : requeue,
});

Args.prefetch = (count, global) => ({
  prefetchCount: count || 0,
  prefetchSize: 0,
  global: !!global,
});

Args.recover = () => ({ requeue: true });

module.exports = Object.freeze(Args);


/***/ }),

/***/ 24197:
/***/ ((module) => {

/**
 * A bitset implementation, after that in java.util.  Yes there
 * already exist such things, but none implement next{Clear|Set}Bit or
 * equivalent, and none involved me tooling about for an evening.
 */
class BitSet {
  /**
   * @param {number} [size]
   */
  constructor(size) {
    if (size) {
      const numWords = Math.ceil(size / 32);
      this.words = new Array(numWords);
    } else {
      this.words = [];
    }
    this.wordsInUse = 0; // = number, not index
  }

  /**
   * @param {number} numWords
   */
  ensureSize(numWords) {
    const wordsPresent = this.words.length;
    if (wordsPresent < numWords) {
      this.words = this.words.concat(new Array(numWords - wordsPresent));
    }
  }

  /**
   * @param {number} bitIndex
   */
  set(bitIndex) {
    const w = wordIndex(bitIndex);
    if (w >= this.wordsInUse) {
      this.ensureSize(w + 1);
      this.wordsInUse = w + 1;
    }
    const bit = 1 << bitIndex;
    this.words[w] |= bit;
  }

  /**
   * @param {number} bitIndex
   */
  clear(bitIndex) {
    const w = wordIndex(bitIndex);
    if (w >= this.wordsInUse) return;
    const mask = ~(1 << bitIndex);
    this.words[w] &= mask;
  }

  /**
   * @param {number} bitIndex
   */
  get(bitIndex) {
    const w = wordIndex(bitIndex);
    if (w >= this.wordsInUse) return false; // >= since index vs size
    const bit = 1 << bitIndex;
    return !!(this.words[w] & bit);
  }

  /**
   * Give the next bit that is set on or after fromIndex, or -1 if no such bit
   *
   * @param {number} fromIndex
   */
  nextSetBit(fromIndex) {
    let w = wordIndex(fromIndex);
    if (w >= this.wordsInUse) return -1;

    // the right-hand side is shifted to only test the bits of the first
    // word that are > fromIndex
    let word = this.words[w] & (0xffffffff << fromIndex);
    while (true) {
      if (word) return w * 32 + trailingZeros(word);
      w++;
      if (w === this.wordsInUse) return -1;
      word = this.words[w];
    }
  }

  /**
   * @param {number} fromIndex
   */
  nextClearBit(fromIndex) {
    let w = wordIndex(fromIndex);
    if (w >= this.wordsInUse) return fromIndex;

    let word = ~this.words[w] & (0xffffffff << fromIndex);
    while (true) {
      if (word) return w * 32 + trailingZeros(word);
      w++;
      if (w === this.wordsInUse) return w * 32;
      word = ~this.words[w];
    }
  }
}

/**
 * @param {number} bitIndex
 */
function wordIndex(bitIndex) {
  return Math.floor(bitIndex / 32);
}

/**
 * @param {number} i
 */
function trailingZeros(i) {
  // From Hacker's Delight, via JDK. Probably far less effective here,
  // since bit ops are not necessarily the quick way to do things in
  // JS.
  if (i === 0) return 32;
  let y;
  let n = 31;
  y = i << 16;
  if (y !== 0) {
    n = n - 16;
    i = y;
  }
  y = i << 8;
  if (y !== 0) {
    n = n - 8;
    i = y;
  }
  y = i << 4;
  if (y !== 0) {
    n = n - 4;
    i = y;
  }
  y = i << 2;
  if (y !== 0) {
    n = n - 2;
    i = y;
  }
  return n - ((i << 1) >>> 31);
}

module.exports.q = BitSet;


/***/ }),

/***/ 4561:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

const defs = __webpack_require__(19516);
const closeMsg = (__webpack_require__(14695).closeMessage);
const inspect = (__webpack_require__(14695).inspect);
const methodName = (__webpack_require__(14695).methodName);
const assert = __webpack_require__(34589);
const EventEmitter = __webpack_require__(78474);
const fmt = (__webpack_require__(57975).format);
const IllegalOperationError = (__webpack_require__(41428).IllegalOperationError);
const stackCapture = (__webpack_require__(41428)/* .stackCapture */ .t);
const safeEmit = __webpack_require__(715);

class Channel extends EventEmitter {
  constructor(connection) {
    super();

    this.connection = connection;
    // for the presently outstanding RPC
    this.reply = null;
    // for the RPCs awaiting action
    this.pending = [];
    // for unconfirmed messages
    this.lwm = 1; // the least, unconfirmed deliveryTag
    this.unconfirmed = []; // rolling window of delivery callbacks
    this.closedWithUnconfirmed = false;
    this.on(
      'ack',
      this.handleConfirm.bind(this, (cb) => {
        if (cb) cb(null);
      }),
    );
    this.on(
      'nack',
      this.handleConfirm.bind(this, (cb) => {
        if (cb) cb(new Error('message nacked'));
      }),
    );
    this.on('close', function () {
      const err = new Error('channel closed');
      for (let i = 0; i < this.unconfirmed.length; i++) {
        const cb = this.unconfirmed[i];
        if (cb) cb(err);
      }
      // Remember that confirms were lost, so every later waitForConfirms
      // fails, whether or not the messages had their own callbacks
      this.closedWithUnconfirmed = this.unconfirmed.some((cb) => cb !== null);
      this.unconfirmed = [];
    });
    // message frame state machine
    this.handleMessage = acceptDeliveryOrReturn;
  }

  setOptions(options) {
    this.options = options;
  }

  allocate() {
    this.ch = this.connection.freshChannel(this, this.options);
    return this;
  }

  // Incoming frames are either notifications of e.g., message delivery,
  // or replies to something we've sent. In general I deal with the
  // former by emitting an event, and with the latter by keeping a track
  // of what's expecting a reply.
  //
  // The AMQP specification implies that RPCs can't be pipelined; that
  // is, you can have only one outstanding RPC on a channel at a
  // time. Certainly that's what RabbitMQ and its clients assume. For
  // this reason, I buffer RPCs if the channel is already waiting for a
  // reply.
  // Just send the damn frame.
  sendImmediately(method, fields) {
    return this.connection.sendMethod(this.ch, method, fields);
  }

  // Invariant: !this.reply -> pending.length == 0. That is, whenever we
  // clear a reply, we must send another RPC (and thereby fill
  // this.reply) if there is one waiting. The invariant relevant here
  // and in `accept`.
  sendOrEnqueue(method, fields, reply) {
    if (!this.reply) {
      // if no reply waiting, we can go
      assert(this.pending.length === 0);
      this.reply = reply;
      this.sendImmediately(method, fields);
    } else {
      this.pending.push({
        method: method,
        fields: fields,
        reply: reply,
      });
    }
  }

  sendMessage(fields, properties, content) {
    return this.connection.sendMessage(this.ch, defs.BasicPublish, fields, defs.BasicProperties, properties, content);
  }

  // Internal, synchronously resolved RPC; the return value is resolved
  // with the whole frame.
  _rpc(method, fields, expect, cb) {
    const self = this;

    function reply(err, f) {
      if (err === null) {
        if (f.id === expect) {
          return cb(null, f);
        } else {
          // We have detected a problem, so it's up to us to close the
          // channel
          const expectedName = methodName(expect);

          const e = new Error(fmt('Expected %s; got %s', expectedName, inspect(f, false)));
          self.closeWithError(f.id, fmt('Expected %s; got %s', expectedName, methodName(f.id)), defs.constants.UNEXPECTED_FRAME, e);
          return cb(e);
        }
      }

      // An error will be given if, for example, this is waiting to be
      // sent and the connection closes
      else if (err instanceof Error) return cb(err);
      // A close frame will be given if this is the RPC awaiting reply
      // and the channel is closed by the server
      else return cb(convertCloseFrameToError(method, err));
    }

    this.sendOrEnqueue(method, fields, reply);
  }

  // Move to entirely closed state.
  toClosed(capturedStack) {
    this._rejectPending();
    invalidateSend(this, 'Channel closed', capturedStack);
    this.accept = invalidOp('Channel closed', capturedStack);
    this.connection.releaseChannel(this.ch);
    safeEmit(this, 'close');
  }

  // Stop being able to send and receive methods and content. Used when
  // we close the channel. Invokes the continuation once the server has
  // acknowledged the close, but before the channel is moved to the
  // closed state.
  toClosing(capturedStack, k) {
    const send = this.sendImmediately.bind(this);
    invalidateSend(this, 'Channel closing', capturedStack);

    this.accept = function (f) {
      if (f.id === defs.ChannelCloseOk) {
        if (k) k();
        const s = stackCapture('ChannelCloseOk frame received');
        this.toClosed(s);
      } else if (f.id === defs.ChannelClose) {
        send(defs.ChannelCloseOk, {});
      }
      // else ignore frame
    };
  }

  _rejectPending() {
    function reject(r) {
      r(new Error('Channel ended, no reply will be forthcoming'));
    }
    if (this.reply !== null) reject(this.reply);
    this.reply = null;

    let discard = this.pending.shift();
    while (discard) {
      if (discard) reject(discard.reply);
      discard = this.pending.shift();
    }
    this.pending = null; // so pushes will break
  }

  closeBecause(reason, code, k) {
    this.sendImmediately(defs.ChannelClose, {
      replyText: reason,
      replyCode: code,
      methodId: 0,
      classId: 0,
    });
    const s = stackCapture(`closeBecause called: ${reason}`);
    this.toClosing(s, k);
  }

  // If we close because there's been an error, we need to distinguish
  // between what we tell the server (`reason`) and what we report as
  // the cause in the client (`error`).
  closeWithError(id, reason, code, error) {
    this.closeBecause(reason, code, () => {
      error.code = code;
      // content frames and consumer errors do not provide a method a class/method ID
      if (id) {
        error.classId = defs.info(id).classId;
        error.methodId = defs.info(id).methodId;
      }
      safeEmit(this, 'error', error);
    });
  }

  // A trampolining state machine for message frames on a channel. A
  // message arrives in at least two frames: first, a method announcing
  // the message (either a BasicDeliver or BasicGetOk); then, a message
  // header with the message properties; then, zero or more content
  // frames.
  // Keep the try/catch localised, in an attempt to avoid disabling
  // optimisation
  acceptMessageFrame(f) {
    try {
      this.handleMessage = this.handleMessage(f);
    } catch (msg) {
      if (typeof msg === 'string') {
        this.closeWithError(f.id, msg, defs.constants.UNEXPECTED_FRAME, new Error(msg));
      } else if (msg instanceof Error) {
        this.closeWithError(f.id, 'Error while processing message', defs.constants.INTERNAL_ERROR, msg);
      } else {
        this.closeWithError(f.id, 'Internal error while processing message', defs.constants.INTERNAL_ERROR, new Error(msg.toString()));
      }
    }
  }

  handleConfirm(handle, f) {
    const tag = f.deliveryTag;
    const multi = f.multiple;

    if (multi) {
      const confirmed = this.unconfirmed.splice(0, tag - this.lwm + 1);
      this.lwm = tag + 1;
      confirmed.forEach(handle);
    } else {
      let c;
      if (tag === this.lwm) {
        c = this.unconfirmed.shift();
        this.lwm++;
        // Advance the LWM and the window to the next non-gap, or
        // possibly to the end
        while (this.unconfirmed[0] === null) {
          this.unconfirmed.shift();
          this.lwm++;
        }
      } else {
        c = this.unconfirmed[tag - this.lwm];
        this.unconfirmed[tag - this.lwm] = null;
      }
      // Technically, in the single-deliveryTag case, I should report a
      // protocol breach if it's already been confirmed.
      handle(c);
    }
  }

  // Resolves once every outstanding message is confirmed, and rejects on
  // the first nack, or if the channel closes before all are confirmed.
  // Shared by the promise and callback ConfirmChannel#waitForConfirms.
  _waitForConfirms() {
    if (this.closedWithUnconfirmed) return Promise.reject(new Error('channel closed'));
    const awaiting = [];
    const unconfirmed = this.unconfirmed;
    unconfirmed.forEach((cb, index) => {
      if (cb !== null) {
        const confirmed = new Promise((resolve, reject) => {
          unconfirmed[index] = (err) => {
            if (cb) cb(err);
            if (err === null) resolve();
            else reject(err);
          };
        });
        awaiting.push(confirmed);
      }
    });
    return Promise.all(awaiting);
  }

  pushConfirmCallback(cb) {
    // `null` is used specifically for marking already confirmed slots,
    // so I coerce `undefined` and `null` to false; functions are never
    // falsey.
    this.unconfirmed.push(cb || false);
  }

  onBufferDrain() {
    safeEmit(this, 'drain');
  }

  accept(f) {
    switch (f.id) {
      // Message frames
      case undefined: // content frame!
      case defs.BasicDeliver:
      case defs.BasicReturn:
      case defs.BasicProperties:
        return this.acceptMessageFrame(f);

      // confirmations, need to do confirm.select first
      case defs.BasicAck:
        return safeEmit(this, 'ack', f.fields);
      case defs.BasicNack:
        return safeEmit(this, 'nack', f.fields);
      case defs.BasicCancel:
        // The broker can send this if e.g., the queue is deleted.
        return safeEmit(this, 'cancel', f.fields);

      case defs.ChannelClose: {
        // Any remote closure is an error to us. Reject the pending reply
        // with the close frame, so it can see whether it was that
        // operation that caused it to close.
        if (this.reply) {
          const reply = this.reply;
          this.reply = null;
          reply(f);
        }
        const emsg = `Channel closed by server: ${closeMsg(f)}`;
        this.sendImmediately(defs.ChannelCloseOk, {});

        const error = new Error(emsg);
        error.code = f.fields.replyCode;
        error.classId = f.fields.classId;
        error.methodId = f.fields.methodId;
        safeEmit(this, 'error', error);

        const s = stackCapture(emsg);
        this.toClosed(s);
        return;
      }

      case defs.BasicFlow:
        // RabbitMQ doesn't send this, it just blocks the TCP socket
        return this.closeWithError(f.id, 'Flow not implemented', defs.constants.NOT_IMPLEMENTED, new Error('Flow not implemented'));

      default: {
        // assume all other things are replies
        // Resolving the reply may lead to another RPC; to make sure we
        // don't hold that up, clear this.reply
        const reply = this.reply;
        this.reply = null;
        // however, maybe there's an RPC waiting to go? If so, that'll
        // fill this.reply again, restoring the invariant. This does rely
        // on any response being recv'ed after resolving the promise,
        // below; hence, I use synchronous defer.
        if (this.pending.length > 0) {
          const send = this.pending.shift();
          this.reply = send.reply;
          this.sendImmediately(send.method, send.fields);
        }
        return reply(null, f);
      }
    }
  }
}

// Shutdown protocol. There's three scenarios:
//
// 1. The application decides to shut the channel
// 2. The server decides to shut the channel, possibly because of
// something the application did
// 3. The connection is closing, so there won't be any more frames
// going back and forth.
//
// 1 and 2 involve an exchange of method frames (Close and CloseOk),
// while 3 doesn't; the connection simply says "shutdown" to the
// channel, which then acts as if it's closing, without going through
// the exchange.

function invalidOp(msg, stack) {
  return () => {
    throw new IllegalOperationError(msg, stack);
  };
}

function invalidateSend(ch, msg, stack) {
  ch.sendImmediately = ch.sendOrEnqueue = ch.sendMessage = invalidOp(msg, stack);
}

// Kick off a message delivery given a BasicDeliver or BasicReturn
// frame (BasicGet uses the RPC mechanism)
function acceptDeliveryOrReturn(f) {
  let event;
  if (f.id === defs.BasicDeliver) event = 'delivery';
  else if (f.id === defs.BasicReturn) event = 'return';
  else throw fmt('Expected BasicDeliver or BasicReturn; got %s', inspect(f));
  const fields = f.fields;
  return acceptMessage((message) => {
    message.fields = fields;
    safeEmit(this, event, message);
  });
}

// Move to the state of waiting for message frames (headers, then
// one or more content frames)
function acceptMessage(continuation) {
  let totalSize = 0;
  let remaining = 0;
  let buffers = null;

  const message = {
    fields: null,
    properties: null,
    content: null,
  };

  return headers;

  // expect a headers frame
  function headers(f) {
    if (f.id === defs.BasicProperties) {
      message.properties = f.fields;
      totalSize = remaining = f.size;

      // for zero-length messages, content frames aren't required.
      if (totalSize === 0) {
        message.content = Buffer.alloc(0);
        continuation(message);
        return acceptDeliveryOrReturn;
      } else {
        return content;
      }
    } else {
      throw 'Expected headers frame after delivery';
    }
  }

  // expect a content frame
  // %%% TODO cancelled messages (sent as zero-length content frame)
  function content(f) {
    if (f.content) {
      const size = f.content.length;
      remaining -= size;
      if (remaining === 0) {
        if (buffers !== null) {
          buffers.push(f.content);
          message.content = Buffer.concat(buffers);
        } else {
          message.content = f.content;
        }
        continuation(message);
        return acceptDeliveryOrReturn;
      } else if (remaining < 0) {
        throw fmt('Too much content sent! Expected %d bytes', totalSize);
      } else {
        if (buffers !== null) buffers.push(f.content);
        else buffers = [f.content];
        return content;
      }
    } else throw 'Expected content frame after headers';
  }
}

function convertCloseFrameToError(method, closeFrame) {
  const closeReason = (closeFrame.fields.classId << 16) + closeFrame.fields.methodId;
  const e =
    method === closeReason
      ? fmt('Operation failed: %s; %s', methodName(method), closeMsg(closeFrame))
      : fmt('Channel closed by server: %s', closeMsg(closeFrame));
  const error = new Error(e);
  error.code = closeFrame.fields.replyCode;
  error.classId = closeFrame.fields.classId;
  error.methodId = closeFrame.fields.methodId;
  return error;
}

// This adds just a bit more stuff useful for the APIs, but not
// low-level machinery.
class BaseChannel extends Channel {
  constructor(connection) {
    super(connection);
    this.consumers = new Map();
  }

  // Not sure I like the ff, it's going to be changing hidden classes
  // all over the place. On the other hand, whaddya do.
  registerConsumer(tag, callback) {
    this.consumers.set(tag, callback);
  }

  unregisterConsumer(tag) {
    this.consumers.delete(tag);
  }

  dispatchMessage(fields, message) {
    const consumerTag = fields.consumerTag;
    const consumer = this.consumers.get(consumerTag);
    if (consumer) {
      return consumer(message);
    } else {
      // %%% Surely a race here
      throw new Error(`Unknown consumer: ${consumerTag}`);
    }
  }

  handleDelivery(message) {
    return this.dispatchMessage(message.fields, message);
  }

  handleCancel(fields) {
    const result = this.dispatchMessage(fields, null);
    this.unregisterConsumer(fields.consumerTag);
    return result;
  }
}

module.exports.acceptMessage = acceptMessage;
module.exports.BaseChannel = BaseChannel;
module.exports.Channel = Channel;
module.exports.convertCloseFrameToError = convertCloseFrameToError;


/***/ }),

/***/ 45143:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

var __webpack_unused_export__;
const EventEmitter = __webpack_require__(78474);
const { promisify } = __webpack_require__(57975);
const defs = __webpack_require__(19516);
const Args = __webpack_require__(66740);
const { BaseChannel, acceptMessage, convertCloseFrameToError } = __webpack_require__(4561);
const { inspect } = __webpack_require__(14695);

class ChannelModel extends EventEmitter {
  constructor(connection) {
    super();
    this.connection = connection;

    ['error', 'close', 'blocked', 'unblocked', 'update-secret-ok'].forEach((ev) => {
      connection.on(ev, this.emit.bind(this, ev));
    });
  }

  close() {
    return promisify(this.connection.close.bind(this.connection))();
  }

  updateSecret(newSecret, reason) {
    return promisify(this.connection._updateSecret.bind(this.connection))(newSecret, reason);
  }

  async createChannel(options) {
    const channel = new Channel(this.connection);
    channel.setOptions(options);
    await channel.open();
    return channel;
  }

  async createConfirmChannel(options) {
    const channel = new ConfirmChannel(this.connection);
    channel.setOptions(options);
    await channel.open();
    await channel.rpc(defs.ConfirmSelect, { nowait: false }, defs.ConfirmSelectOk);
    return channel;
  }
}

// Channels

class Channel extends BaseChannel {
  constructor(connection) {
    super(connection);
    this.on('delivery', this.handleDelivery.bind(this));
    this.on('cancel', this.handleCancel.bind(this));
  }

  // An RPC that returns a 'proper' promise, which resolves to just the
  // response's fields; this is intended to be suitable for implementing
  // API procedures.
  async rpc(method, fields, expect) {
    const f = await promisify((cb) => {
      return this._rpc(method, fields, expect, cb);
    })();

    return f.fields;
  }

  // Do the remarkably simple channel open handshake
  async open() {
    const ch = await this.allocate.bind(this)();
    return ch.rpc(defs.ChannelOpen, { outOfBand: '' }, defs.ChannelOpenOk);
  }

  close() {
    return promisify((cb) => {
      return this.closeBecause('Goodbye', defs.constants.REPLY_SUCCESS, cb);
    })();
  }

  // === Public API, declaring queues and stuff ===

  assertQueue(queue, options) {
    return this.rpc(defs.QueueDeclare, Args.assertQueue(queue, options), defs.QueueDeclareOk);
  }

  checkQueue(queue) {
    return this.rpc(defs.QueueDeclare, Args.checkQueue(queue), defs.QueueDeclareOk);
  }

  deleteQueue(queue, options) {
    return this.rpc(defs.QueueDelete, Args.deleteQueue(queue, options), defs.QueueDeleteOk);
  }

  purgeQueue(queue) {
    return this.rpc(defs.QueuePurge, Args.purgeQueue(queue), defs.QueuePurgeOk);
  }

  bindQueue(queue, source, pattern, argt) {
    return this.rpc(defs.QueueBind, Args.bindQueue(queue, source, pattern, argt), defs.QueueBindOk);
  }

  unbindQueue(queue, source, pattern, argt) {
    return this.rpc(defs.QueueUnbind, Args.unbindQueue(queue, source, pattern, argt), defs.QueueUnbindOk);
  }

  assertExchange(exchange, type, options) {
    // The server reply is an empty set of fields, but it's convenient
    // to have the exchange name handed to the continuation.
    return this.rpc(defs.ExchangeDeclare, Args.assertExchange(exchange, type, options), defs.ExchangeDeclareOk).then((_ok) => {
      return { exchange };
    });
  }

  checkExchange(exchange) {
    return this.rpc(defs.ExchangeDeclare, Args.checkExchange(exchange), defs.ExchangeDeclareOk);
  }

  deleteExchange(name, options) {
    return this.rpc(defs.ExchangeDelete, Args.deleteExchange(name, options), defs.ExchangeDeleteOk);
  }

  bindExchange(dest, source, pattern, argt) {
    return this.rpc(defs.ExchangeBind, Args.bindExchange(dest, source, pattern, argt), defs.ExchangeBindOk);
  }

  unbindExchange(dest, source, pattern, argt) {
    return this.rpc(defs.ExchangeUnbind, Args.unbindExchange(dest, source, pattern, argt), defs.ExchangeUnbindOk);
  }

  // Working with messages

  publish(exchange, routingKey, content, options) {
    const fieldsAndProps = Args.publish(exchange, routingKey, options);
    return this.sendMessage(fieldsAndProps, fieldsAndProps, content);
  }

  sendToQueue(queue, content, options) {
    return this.publish('', queue, content, options);
  }

  consume(queue, callback, options) {
    // NB we want the callback to be run synchronously, so that we've
    // registered the consumerTag before any messages can arrive.
    const fields = Args.consume(queue, options);
    return new Promise((resolve, reject) => {
      this._rpc(defs.BasicConsume, fields, defs.BasicConsumeOk, (err, ok) => {
        if (err) return reject(err);
        this.registerConsumer(ok.fields.consumerTag, callback);
        resolve(ok.fields);
      });
    });
  }

  async cancel(consumerTag) {
    const fields = await this.rpc(defs.BasicCancel, Args.cancel(consumerTag), defs.BasicCancelOk);
    this.unregisterConsumer(consumerTag);
    return fields;
  }

  get(queue, options) {
    const fields = Args.get(queue, options);
    return new Promise((resolve, reject) => {
      this.sendOrEnqueue(defs.BasicGet, fields, (err, f) => {
        if (err instanceof Error) return reject(err);
        if (err) return reject(convertCloseFrameToError(defs.BasicGet, err));
        if (f.id === defs.BasicGetEmpty) {
          return resolve(false);
        } else if (f.id === defs.BasicGetOk) {
          const fields = f.fields;
          this.handleMessage = acceptMessage((m) => {
            m.fields = fields;
            resolve(m);
          });
        } else {
          reject(new Error(`Unexpected response to BasicGet: ${inspect(f)}`));
        }
      });
    });
  }

  ack(message, allUpTo) {
    this.sendImmediately(defs.BasicAck, Args.ack(message.fields.deliveryTag, allUpTo));
  }

  ackAll() {
    this.sendImmediately(defs.BasicAck, Args.ack(0, true));
  }

  nack(message, allUpTo, requeue) {
    this.sendImmediately(defs.BasicNack, Args.nack(message.fields.deliveryTag, allUpTo, requeue));
  }

  nackAll(requeue) {
    this.sendImmediately(defs.BasicNack, Args.nack(0, true, requeue));
  }

  // `Basic.Nack` is not available in older RabbitMQ versions (or in the
  // AMQP specification), so you have to use the one-at-a-time
  // `Basic.Reject`. This is otherwise synonymous with
  // `#nack(message, false, requeue)`.
  reject(message, requeue) {
    this.sendImmediately(defs.BasicReject, Args.reject(message.fields.deliveryTag, requeue));
  }

  recover() {
    return this.rpc(defs.BasicRecover, Args.recover(), defs.BasicRecoverOk);
  }

  qos(count, global) {
    return this.rpc(defs.BasicQos, Args.prefetch(count, global), defs.BasicQosOk);
  }
}

// There are more options in AMQP than exposed here; RabbitMQ only
// implements prefetch based on message count, and only for individual
// channels or consumers. RabbitMQ v3.3.0 and after treat prefetch
// (without `global` set) as per-consumer (for consumers following),
// and prefetch with `global` set as per-channel.
Channel.prototype.prefetch = Channel.prototype.qos;

// Confirm channel. This is a channel with confirms 'switched on',
// meaning sent messages will provoke a responding 'ack' or 'nack'
// from the server. The upshot of this is that `publish` and
// `sendToQueue` both take a callback, which will be called either
// with `null` as its argument to signify 'ack', or an exception as
// its argument to signify 'nack'.

class ConfirmChannel extends Channel {
  publish(exchange, routingKey, content, options, cb) {
    const result = super.publish(exchange, routingKey, content, options);
    this.pushConfirmCallback(cb);
    return result;
  }

  sendToQueue(queue, content, options, cb) {
    return this.publish('', queue, content, options, cb);
  }

  waitForConfirms() {
    return this._waitForConfirms();
  }
}

__webpack_unused_export__ = ConfirmChannel;
__webpack_unused_export__ = Channel;
module.exports.tW = ChannelModel;


/***/ }),

/***/ 66820:
/***/ ((module) => {

/*
The AMQP 0-9-1 is a mess when it comes to the types that can be
encoded on the wire.

There are four encoding schemes, and three overlapping sets of types:
frames, methods, (field-)tables, and properties.

Each *frame type* has a set layout in which values of given types are
concatenated along with sections of "raw binary" data.

In frames there are `shortstr`s, that is length-prefixed strings of
UTF8 chars, 8 bit unsigned integers (called `octet`), unsigned 16 bit
integers (called `short` or `short-uint`), unsigned 32 bit integers
(called `long` or `long-uint`), unsigned 64 bit integers (called
`longlong` or `longlong-uint`), and flags (called `bit`).

Methods are encoded as a frame giving a method ID and a sequence of
arguments of known types. The encoded method argument values are
concatenated (with some fun complications around "packing" consecutive
bit values into bytes).

Along with the types given in frames, method arguments may be long
byte strings (`longstr`, not required to be UTF8) or 64 bit unsigned
integers to be interpreted as timestamps (yeah I don't know why
either), or arbitrary sets of key-value pairs (called `field-table`).

Inside a field table the keys are `shortstr` and the values are
prefixed with a byte tag giving the type. The types are any of the
above except for bits (which are replaced by byte-wide `bool`), along
with a NULL value `void`, a special fixed-precision number encoding
(`decimal`), IEEE754 `float`s and `double`s, signed integers,
`field-array` (a sequence of tagged values), and nested field-tables.

RabbitMQ and QPid use a subset of the field-table types, and different
value tags, established before the AMQP 0-9-1 specification was
published. So far as I know, no-one uses the types and tags as
published. http://www.rabbitmq.com/amqp-0-9-1-errata.html gives the
list of field-table types.

Lastly, there are (sets of) properties, only one of which is given in
AMQP 0-9-1: `BasicProperties`. These are almost the same as methods,
except that they appear in content header frames, which include a
content size, and they carry a set of flags indicating which
properties are present. This scheme can save ones of bytes per message
(messages which take a minimum of three frames each to send).
*/

// JavaScript uses only doubles so what I'm testing for is whether
// it's *better* to encode a number as a float or double. This really
// just amounts to testing whether there's a fractional part to the
// number, except that see below. NB I don't use bitwise operations to
// do this 'efficiently' -- it would mask the number to 32 bits.
//
// At 2^50, doubles don't have sufficient precision to distinguish
// between floating point and integer numbers (`Math.pow(2, 50) + 0.1
// === Math.pow(2, 50)` (and, above 2^53, doubles cannot represent all
// integers (`Math.pow(2, 53) + 1 === Math.pow(2, 53)`)). Hence
// anything with a magnitude at or above 2^50 may as well be encoded
// as a 64-bit integer. Except that only signed integers are supported
// by RabbitMQ, so anything above 2^63 - 1 must be a double.
function isFloatingPoint(n) {
  return n >= 0x8000000000000000 || (Math.abs(n) < 0x4000000000000 && Math.floor(n) !== n);
}

function checkSpace(buffer, offset, size) {
  if (offset + size > buffer.length) {
    throw new RangeError(`Encoded field table (headers or arguments) exceeds the ${buffer.length} byte encoding buffer`);
  }
}

function encodeTable(buffer, val, offset) {
  const start = offset;
  checkSpace(buffer, offset, 4);
  offset += 4; // leave room for the table length
  for (const key in val) {
    if (val[key] !== undefined) {
      const len = Buffer.byteLength(key);
      checkSpace(buffer, offset, 1 + len);
      buffer.writeUInt8(len, offset);
      offset++;
      buffer.write(key, offset, 'utf8');
      offset += len;
      offset += encodeFieldValue(buffer, val[key], offset);
    }
  }
  const size = offset - start;
  buffer.writeUInt32BE(size - 4, start);
  return size;
}

function encodeArray(buffer, val, offset) {
  const start = offset;
  checkSpace(buffer, offset, 4);
  offset += 4;
  for (let i = 0, num = val.length; i < num; i++) {
    offset += encodeFieldValue(buffer, val[i], offset);
  }
  const size = offset - start;
  buffer.writeUInt32BE(size - 4, start);
  return size;
}

function encodeFieldValue(buffer, value, offset) {
  const start = offset;
  let type = typeof value;
  let val = value;
  // A trapdoor for specifying a type, e.g., timestamp
  if (value && type === 'object' && Object.hasOwn(value, '!')) {
    val = value.value;
    type = value['!'];
  }

  // If it's a JS number, we'll have to guess what type to encode it
  // as.
  if (type === 'number') {
    // Making assumptions about the kind of number (floating point
    // v integer, signed, unsigned, size) desired is dangerous in
    // general; however, in practice RabbitMQ uses only
    // longstrings and unsigned integers in its arguments, and
    // other clients generally conflate number types anyway. So
    // the only distinction we care about is floating point vs
    // integers, preferring integers since those can be promoted
    // if necessary. If floating point is required, we may as well
    // use double precision.
    if (isFloatingPoint(val)) {
      type = 'double';
    } else {
      // only signed values are used in tables by
      // RabbitMQ. It *used* to (< v3.3.0) treat the byte 'b'
      // type as unsigned, but most clients (and the spec)
      // think it's signed, and now RabbitMQ does too.
      if (val < 128 && val >= -128) {
        type = 'byte';
      } else if (val >= -0x8000 && val < 0x8000) {
        type = 'short';
      } else if (val >= -0x80000000 && val < 0x80000000) {
        type = 'int';
      } else {
        type = 'long';
      }
    }
  }

  function tag(t) {
    checkSpace(buffer, offset, 1);
    buffer.write(t, offset);
    offset++;
  }

  switch (type) {
    case 'string': {
      // no shortstr in field tables
      const len = Buffer.byteLength(val, 'utf8');
      tag('S');
      checkSpace(buffer, offset, 4 + len);
      buffer.writeUInt32BE(len, offset);
      offset += 4;
      buffer.write(val, offset, 'utf8');
      offset += len;
      break;
    }
    case 'object':
      if (val === null) {
        tag('V');
      } else if (Array.isArray(val)) {
        tag('A');
        offset += encodeArray(buffer, val, offset);
      } else if (Buffer.isBuffer(val)) {
        tag('x');
        checkSpace(buffer, offset, 4 + val.length);
        buffer.writeUInt32BE(val.length, offset);
        offset += 4;
        val.copy(buffer, offset);
        offset += val.length;
      } else {
        tag('F');
        offset += encodeTable(buffer, val, offset);
      }
      break;
    case 'boolean':
      tag('t');
      checkSpace(buffer, offset, 1);
      buffer.writeUInt8(val ? 1 : 0, offset);
      offset++;
      break;
    // These are the types that are either guessed above, or
    // explicitly given using the {'!': type} notation.
    case 'double':
    case 'float64':
      tag('d');
      checkSpace(buffer, offset, 8);
      buffer.writeDoubleBE(val, offset);
      offset += 8;
      break;
    case 'byte':
    case 'int8':
      tag('b');
      checkSpace(buffer, offset, 1);
      buffer.writeInt8(val, offset);
      offset++;
      break;
    case 'unsignedbyte':
    case 'uint8':
      tag('B');
      checkSpace(buffer, offset, 1);
      buffer.writeUInt8(val, offset);
      offset++;
      break;
    case 'short':
    case 'int16':
      tag('s');
      checkSpace(buffer, offset, 2);
      buffer.writeInt16BE(val, offset);
      offset += 2;
      break;
    case 'unsignedshort':
    case 'uint16':
      tag('u');
      checkSpace(buffer, offset, 2);
      buffer.writeUInt16BE(val, offset);
      offset += 2;
      break;
    case 'int':
    case 'int32':
      tag('I');
      checkSpace(buffer, offset, 4);
      buffer.writeInt32BE(val, offset);
      offset += 4;
      break;
    case 'unsignedint':
    case 'uint32':
      tag('i');
      checkSpace(buffer, offset, 4);
      buffer.writeUInt32BE(val, offset);
      offset += 4;
      break;
    case 'long':
    case 'int64':
      tag('l');
      checkSpace(buffer, offset, 8);
      buffer.writeBigInt64BE(BigInt(val), offset);
      offset += 8;
      break;

    // Now for exotic types, those can _only_ be denoted by using
    // `{'!': type, value: val}
    case 'timestamp':
      tag('T');
      checkSpace(buffer, offset, 8);
      buffer.writeBigUInt64BE(BigInt(val), offset);
      offset += 8;
      break;
    case 'float':
      tag('f');
      checkSpace(buffer, offset, 4);
      buffer.writeFloatBE(val, offset);
      offset += 4;
      break;
    case 'decimal':
      tag('D');
      if (Object.hasOwn(val, 'places') && Object.hasOwn(val, 'digits') && val.places >= 0 && val.places < 256) {
        checkSpace(buffer, offset, 5);
        buffer[offset] = val.places;
        offset++;
        buffer.writeUInt32BE(val.digits, offset);
        offset += 4;
      } else throw new TypeError(`Decimal value must be {'places': 0..255, 'digits': uint32}, got ${JSON.stringify(val)}`);
      break;
    default:
      throw new TypeError(`Unknown type to encode: ${type}`);
  }
  return offset - start;
}

// Assume we're given a slice of the buffer that contains just the
// fields.
function decodeFields(slice) {
  const fields = {};
  let offset = 0;
  const size = slice.length;
  let len;
  let key;
  let val;

  function decodeFieldValue() {
    const tag = String.fromCharCode(slice[offset]);
    offset++;
    switch (tag) {
      case 'b':
        val = slice.readInt8(offset);
        offset++;
        break;
      case 'B':
        val = slice.readUInt8(offset);
        offset++;
        break;
      case 'S':
        len = slice.readUInt32BE(offset);
        offset += 4;
        val = slice.toString('utf8', offset, offset + len);
        offset += len;
        break;
      case 'I':
        val = slice.readInt32BE(offset);
        offset += 4;
        break;
      case 'i':
        val = slice.readUInt32BE(offset);
        offset += 4;
        break;
      case 'D': {
        // only positive decimals, apparently.
        const places = slice[offset];
        offset++;
        const digits = slice.readUInt32BE(offset);
        offset += 4;
        val = { '!': 'decimal', value: { places: places, digits: digits } };
        break;
      }
      case 'T':
        val = Number(slice.readBigUInt64BE(offset));
        offset += 8;
        val = { '!': 'timestamp', value: val };
        break;
      case 'F':
        len = slice.readUInt32BE(offset);
        offset += 4;
        val = decodeFields(slice.subarray(offset, offset + len));
        offset += len;
        break;
      case 'A':
        len = slice.readUInt32BE(offset);
        offset += 4;
        decodeArray(offset + len);
        // NB decodeArray will itself update offset and val
        break;
      case 'd':
        val = slice.readDoubleBE(offset);
        offset += 8;
        break;
      case 'f':
        val = slice.readFloatBE(offset);
        offset += 4;
        break;
      case 'l':
        val = Number(slice.readBigInt64BE(offset));
        offset += 8;
        break;
      case 's':
        val = slice.readInt16BE(offset);
        offset += 2;
        break;
      case 'u':
        val = slice.readUInt16BE(offset);
        offset += 2;
        break;
      case 't':
        val = slice[offset] !== 0;
        offset++;
        break;
      case 'V':
        val = null;
        break;
      case 'x':
        len = slice.readUInt32BE(offset);
        offset += 4;
        val = slice.subarray(offset, offset + len);
        offset += len;
        break;
      default:
        throw new TypeError(`Unexpected type tag "${tag}"`);
    }
  }

  function decodeArray(until) {
    const vals = [];
    while (offset < until) {
      decodeFieldValue();
      vals.push(val);
    }
    val = vals;
  }

  while (offset < size) {
    len = slice.readUInt8(offset);
    offset++;
    key = slice.toString('utf8', offset, offset + len);
    offset += len;
    decodeFieldValue();
    fields[key] = val;
  }
  return fields;
}

module.exports.encodeTable = encodeTable;
module.exports.decodeFields = decodeFields;


/***/ }),

/***/ 34952:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

var __webpack_unused_export__;
const { URL } = __webpack_require__(73136);
const QS = __webpack_require__(41792);
const net = __webpack_require__(77030);
const tls = __webpack_require__(41692);
const Connection = (__webpack_require__(9628)/* .Connection */ .Ng);
const fmt = (__webpack_require__(57975).format);
const credentials = __webpack_require__(17812);

function copyInto(obj, target) {
  const keys = Object.keys(obj);
  let i = keys.length;
  while (i--) {
    const k = keys[i];
    target[k] = obj[k];
  }
  return target;
}

// Adapted from util._extend, which is too fringe to use.
function clone(obj) {
  return copyInto(obj, {});
}

const CLIENT_PROPERTIES = {
  product: 'amqplib',
  version: (__webpack_require__(92246)/* .version */ .rE),
  platform: fmt('Node.JS %s', process.version),
  information: 'https://amqp-node.github.io/amqplib/',
  capabilities: {
    publisher_confirms: true,
    exchange_exchange_bindings: true,
    'basic.nack': true,
    consumer_cancel_notify: true,
    'connection.blocked': true,
    authentication_failure_close: true,
  },
};

// Construct the main frames used in the opening handshake
function openFrames(vhost, query, credentials, extraClientProperties) {
  if (!vhost) vhost = '/';
  else vhost = QS.unescape(vhost);

  query = query || {};

  function intOrDefault(val, def) {
    return val === undefined ? def : parseInt(val, 10);
  }

  function maxFrameSizeOrUndefined(val) {
    if (val == null) return undefined;
    return /^\d+$/.test(String(val)) ? Number(val) : NaN;
  }

  const clientProperties = Object.create(CLIENT_PROPERTIES);

  return {
    // start-ok
    clientProperties: copyInto(extraClientProperties, clientProperties),
    mechanism: credentials.mechanism,
    response: credentials.response(),
    locale: query.locale || 'en_US',

    // tune-ok
    channelMax: intOrDefault(query.channelMax, 0),
    frameMax: intOrDefault(query.frameMax, 131072),
    heartbeat: query.heartbeat != null ? intOrDefault(query.heartbeat, 0) : null,

    maxFrameSize: maxFrameSizeOrUndefined(query.maxFrameSize),

    // open
    virtualHost: vhost,
    capabilities: '',
    insist: 0,
  };
}

// Decide on credentials based on what we're supplied.
function credentialsFromUrl(parts) {
  let user = 'guest';
  let passwd = 'guest';
  if (parts.username !== '' || parts.password !== '') {
    user = parts.username ? unescape(parts.username) : '';
    passwd = parts.password ? unescape(parts.password) : '';
  }
  return credentials.plain(user, passwd);
}

function connect(url, socketOptions, openCallback) {
  // tls.connect uses `util._extend()` on the options given it, which
  // copies only properties mentioned in `Object.keys()`, when
  // processing the options. So I have to make copies too, rather
  // than using `Object.create()`.
  const sockopts = clone(socketOptions || {});
  url = url || 'amqp://localhost';

  const noDelay = !!sockopts.noDelay;
  const timeout = sockopts.timeout;
  const keepAlive = !!sockopts.keepAlive;
  // 0 is default for node
  const keepAliveDelay = sockopts.keepAliveDelay || 0;

  const extraClientProperties = sockopts.clientProperties || {};

  let protocol;
  let fields;
  if (typeof url === 'object') {
    protocol = `${url.protocol || 'amqp'}:`;
    sockopts.host = url.hostname;
    if (!sockopts.servername && !net.isIP(url.hostname)) sockopts.servername = url.hostname;
    sockopts.port = url.port || (protocol === 'amqp:' ? 5672 : 5671);

    let user;
    let pass;
    // Only default if both are missing, to have the same behaviour as
    // the stringly URL.
    if (url.username === undefined && url.password === undefined) {
      user = 'guest';
      pass = 'guest';
    } else {
      user = url.username || '';
      pass = url.password || '';
    }

    const config = {
      locale: url.locale,
      channelMax: url.channelMax,
      frameMax: url.frameMax,
      heartbeat: url.heartbeat,
      maxFrameSize: url.maxFrameSize,
    };

    fields = openFrames(url.vhost, config, sockopts.credentials || credentials.plain(user, pass), extraClientProperties);
  } else {
    let parts;
    try {
      parts = new URL(url);
    } catch (_e) {
      parts = {};
    }
    const host = (parts.hostname || '').replace(/^\[|\]$/g, '');
    protocol = parts.protocol || '';
    sockopts.host = host;
    if (!sockopts.servername && !net.isIP(host)) sockopts.servername = host;
    sockopts.port = parseInt(parts.port, 10) || (protocol === 'amqp:' ? 5672 : 5671);
    const vhost = parts.pathname ? parts.pathname.substr(1) : null;
    const query = QS.parse(parts.search ? parts.search.slice(1) : '');
    // QS.parse returns arrays for duplicate keys; match url-parse's first-value-wins behavior.
    for (const key in query) {
      if (Array.isArray(query[key])) query[key] = query[key][0];
    }
    fields = openFrames(vhost, query, sockopts.credentials || credentialsFromUrl(parts), extraClientProperties);
  }

  let sockok = false;
  let sock;

  function onConnect() {
    sockok = true;
    sock.setNoDelay(noDelay);
    if (keepAlive) sock.setKeepAlive(keepAlive, keepAliveDelay);

    const c = new Connection(sock);
    c.open(fields, (err, _ok) => {
      // disable timeout once the connection is open, we don't want
      // it fouling things
      if (timeout) sock.setTimeout(0);
      if (err === null) {
        openCallback(null, c);
      } else {
        // The connection isn't closed by the server on e.g. wrong password
        sock.end();
        sock.destroy();
        openCallback(err);
      }
    });
  }

  if (protocol === 'amqp:') {
    sock = net.connect(sockopts, onConnect);
  } else if (protocol === 'amqps:') {
    sock = tls.connect(sockopts, onConnect);
  } else {
    throw new Error(`Expected amqp: or amqps: as the protocol; got ${protocol}`);
  }

  if (timeout) {
    sock.setTimeout(timeout, () => {
      sock.end();
      sock.destroy();
      openCallback(new Error('connect ETIMEDOUT'));
    });
  }

  sock.once('error', (err) => {
    if (!sockok) openCallback(err);
  });
}

module.exports.N = connect;
__webpack_unused_export__ = credentialsFromUrl;


/***/ }),

/***/ 9628:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

var __webpack_unused_export__;
const defs = __webpack_require__(19516);
const constants = defs.constants;
const frame = __webpack_require__(58731);
const HEARTBEAT = frame.HEARTBEAT;
const Mux = (__webpack_require__(32560)/* .Mux */ .Z);

const Duplex = (__webpack_require__(57075).Duplex);
const EventEmitter = __webpack_require__(78474);
const Heart = (__webpack_require__(28814)/* .Heart */ .B);

const methodName = (__webpack_require__(14695).methodName);
const closeMsg = (__webpack_require__(14695).closeMessage);
const inspect = (__webpack_require__(14695).inspect);

const BitSet = (__webpack_require__(24197)/* .BitSet */ .q);
const fmt = (__webpack_require__(57975).format);
const PassThrough = (__webpack_require__(57075).PassThrough);
const IllegalOperationError = (__webpack_require__(41428).IllegalOperationError);
const stackCapture = (__webpack_require__(41428)/* .stackCapture */ .t);
const safeEmit = __webpack_require__(715);

// High-water mark for channel write buffers, in 'objects' (which are
// encoded frames as buffers).
const DEFAULT_WRITE_HWM = 1024;
// If all the frames of a message (method, properties, content) total
// to less than this, copy them into a single buffer and write it all
// at once. Note that this is less than the minimum frame size: if it
// was greater, we might have to fragment the content.
const SINGLE_CHUNK_THRESHOLD = 2048;
const DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024;

class Connection extends EventEmitter {
  constructor(underlying) {
    super();

    this.stream = wrapStream(underlying);
    this.muxer = new Mux(this.stream);

    // frames
    this.rest = Buffer.alloc(0);
    this.frameMax = constants.FRAME_MIN_SIZE;
    this.maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
    this.sentSinceLastCheck = false;
    this.recvSinceLastCheck = false;

    this.expectSocketClose = false;
    this.blocked = false;
    this.freeChannels = new BitSet();
    this.channels = [
      {
        channel: { accept: channel0(this) },
        buffer: underlying,
      },
    ];
  }

  // This changed between versions, as did the codec, methods, etc. AMQP
  // 0-9-1 is fairly similar to 0.8, but better, and nothing implements
  // 0.8 that doesn't implement 0-9-1. In other words, it doesn't make
  // much sense to generalise here.
  sendProtocolHeader() {
    this.sendBytes(frame.PROTOCOL_HEADER);
  }

  /*
    The frighteningly complicated opening protocol (spec section 2.2.4):

       Client -> Server

         protocol header ->
           <- start
         start-ok ->
       .. next two zero or more times ..
           <- secure
         secure-ok ->
           <- tune
         tune-ok ->
         open ->
           <- open-ok

  If I'm only supporting SASL's PLAIN mechanism (which I am for the time
  being), it gets a bit easier since the server won't in general send
  back a `secure`, it'll just send `tune` after the `start-ok`.
  (SASL PLAIN: http://tools.ietf.org/html/rfc4616)

  */
  open(allFields, openCallback0) {
    const self = this;
    const openCallback = openCallback0 || (() => {});

    const maxFrameSize = allFields.maxFrameSize;
    const maxFrameSizeDefaulted = maxFrameSize === undefined || maxFrameSize === null;
    if (maxFrameSizeDefaulted) {
      self.maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
    } else if (!Number.isInteger(maxFrameSize) || (maxFrameSize !== 0 && maxFrameSize < constants.FRAME_MIN_SIZE)) {
      bail(new TypeError(fmt('maxFrameSize must be 0 (no limit) or an integer of at least %d; got %s', constants.FRAME_MIN_SIZE, maxFrameSize)));
      return;
    } else {
      self.maxFrameSize = maxFrameSize;
    }

    // This is where we'll put our negotiated values
    const tunedOptions = Object.create(allFields);

    function wait(k) {
      self.step((err, frame) => {
        if (err !== null) bail(err);
        else if (frame.channel !== 0) {
          bail(new Error(fmt('Frame on channel != 0 during handshake: %s', inspect(frame, false))));
        } else k(frame);
      });
    }

    function expect(Method, k) {
      wait((frame) => {
        if (frame.id === Method) k(frame);
        else {
          bail(new Error(fmt('Expected %s; got %s', methodName(Method), inspect(frame, false))));
        }
      });
    }

    function bail(err) {
      openCallback(err);
    }

    function send(Method) {
      // This can throw an exception if there's some problem with the
      // options; e.g., something is a string instead of a number.
      self.sendMethod(0, Method, tunedOptions);
    }

    function negotiate(server, desired) {
      // We get sent values for channelMax, frameMax and heartbeat,
      // which we may accept or lower (subject to a minimum for
      // frameMax, but we'll leave that to the server to enforce). In
      // all cases, `0` really means "no limit", or rather the highest
      // value in the encoding, e.g., unsigned short for channelMax.
      if (server === 0 || desired === 0) {
        // i.e., whichever places a limit, if either
        return Math.max(server, desired);
      } else {
        return Math.min(server, desired);
      }
    }

    function onStart(start) {
      const mechanisms = start.fields.mechanisms.toString().split(' ');
      if (mechanisms.indexOf(allFields.mechanism) < 0) {
        bail(new Error(fmt('SASL mechanism %s is not provided by the server', allFields.mechanism)));
        return;
      }
      self.serverProperties = start.fields.serverProperties;
      try {
        send(defs.ConnectionStartOk);
      } catch (err) {
        bail(err);
        return;
      }
      wait(afterStartOk);
    }

    function afterStartOk(reply) {
      switch (reply.id) {
        case defs.ConnectionSecure:
          bail(new Error("Wasn't expecting to have to go through secure"));
          break;
        case defs.ConnectionClose:
          bail(new Error(fmt('Handshake terminated by server: %s', closeMsg(reply))));
          break;
        case defs.ConnectionTune: {
          const fields = reply.fields;
          if (fields.frameMax !== 0 && fields.frameMax < constants.FRAME_MIN_SIZE) {
            bail(new Error(fmt('Server frameMax %d is below the protocol minimum %d', fields.frameMax, constants.FRAME_MIN_SIZE)));
            return;
          }
          tunedOptions.frameMax = negotiate(fields.frameMax, allFields.frameMax);
          tunedOptions.channelMax = negotiate(fields.channelMax, allFields.channelMax);
          if (allFields.heartbeat == null) {
            tunedOptions.heartbeat = fields.heartbeat; // no preference, accept server value
          } else if (allFields.heartbeat === 0) {
            tunedOptions.heartbeat = 0; // explicitly disable heartbeats
          } else {
            tunedOptions.heartbeat = negotiate(fields.heartbeat, allFields.heartbeat);
          }
          try {
            send(defs.ConnectionTuneOk);
            send(defs.ConnectionOpen);
          } catch (err) {
            bail(err);
            return;
          }
          expect(defs.ConnectionOpenOk, onOpenOk);
          break;
        }
        default:
          bail(
            new Error(
              fmt('Expected connection.secure, connection.close, ' + 'or connection.tune during handshake; got %s', inspect(reply, false)),
            ),
          );
          break;
      }
    }

    function onOpenOk(openOk) {
      // Impose the maximum of the encoded value, if the negotiated
      // value is zero, meaning "no, no limits"
      self.channelMax = tunedOptions.channelMax || 0xffff;
      self.frameMax = tunedOptions.frameMax || 0xffffffff;
      if (maxFrameSizeDefaulted && tunedOptions.frameMax !== 0 && tunedOptions.frameMax > self.maxFrameSize) {
        self.maxFrameSize = tunedOptions.frameMax;
      }
      // 0 means "no heartbeat", rather than "maximum period of
      // heartbeating"
      self.heartbeat = tunedOptions.heartbeat;
      self.heartbeater = self.startHeartbeater();
      self.accept = mainAccept;
      succeed(openOk);
    }

    // If the server closes the connection, it's probably because of
    // something we did
    function endWhileOpening(err) {
      bail(err || new Error('Socket closed abruptly ' + 'during opening handshake'));
    }

    this.stream.on('end', endWhileOpening);
    this.stream.on('error', endWhileOpening);

    function succeed(ok) {
      self.stream.removeListener('end', endWhileOpening);
      self.stream.removeListener('error', endWhileOpening);
      self.stream.on('error', self.onSocketError.bind(self));
      self.stream.on('end', self.onSocketError.bind(self, new Error('Unexpected close')));
      self.on('frameError', self.onSocketError.bind(self));
      self.acceptLoop();
      openCallback(null, ok);
    }

    // Now kick off the handshake by prompting the server
    this.sendProtocolHeader();
    expect(defs.ConnectionStart, onStart);
  }

  // Closing things: AMQP has a closing handshake that applies to
  // closing both connects and channels. As the initiating party, I send
  // Close, then ignore all frames until I see either CloseOK --
  // which signifies that the other party has seen the Close and shut
  // the connection or channel down, so it's fine to free resources; or
  // Close, which means the other party also wanted to close the
  // whatever, and I should send CloseOk so it can free resources,
  // then go back to waiting for the CloseOk. If I receive a Close
  // out of the blue, I should throw away any unsent frames (they will
  // be ignored anyway) and send CloseOk, then clean up resources. In
  // general, Close out of the blue signals an error (or a forced
  // closure, which may as well be an error).
  //
  //  RUNNING [1] --- send Close ---> Closing [2] ---> recv Close --+
  //     |                               |                         [3]
  //     |                               +------ send CloseOk ------+
  //  recv Close                   recv CloseOk
  //     |                               |
  //     V                               V
  //  Ended [4] ---- send CloseOk ---> Closed [5]
  //
  // [1] All frames accepted; getting a Close frame from the server
  // moves to Ended; client may initiate a close by sending Close
  // itself.
  // [2] Client has initiated a close; only CloseOk or (simulataneously
  // sent) Close is accepted.
  // [3] Simultaneous close
  // [4] Server won't send any more frames; accept no more frames, send
  // CloseOk.
  // [5] Fully closed, client will send no more, server will send no
  // more. Signal 'close' or 'error'.
  //
  // There are two signalling mechanisms used in the API. The first is
  // that calling `close` will return a promise, that will either
  // resolve once the connection or channel is cleanly shut down, or
  // will reject if the shutdown times out.
  //
  // The second is the 'close' and 'error' events. These are
  // emitted as above. The events will fire *before* promises are
  // resolved.
  // Close the connection without even giving a reason. Typical.
  close(closeCallback) {
    const k =
      closeCallback &&
      (() => {
        closeCallback(null);
      });
    this.closeBecause('Cheers, thanks', constants.REPLY_SUCCESS, k);
  }

  // Close with a reason and a 'code'. I'm pretty sure RabbitMQ totally
  // ignores these; maybe it logs them. The continuation will be invoked
  // when the CloseOk has been received, and before the 'close' event.
  closeBecause(reason, code, k) {
    this.sendMethod(0, defs.ConnectionClose, {
      replyText: reason,
      replyCode: code,
      methodId: 0,
      classId: 0,
    });
    const s = stackCapture(`closeBecause called: ${reason}`);
    this.toClosing(s, k);
  }

  closeWithError(reason, code, error) {
    safeEmit(this, 'error', error);
    this.closeBecause(reason, code);
  }

  onSocketError(err) {
    if (!this.expectSocketClose) {
      // forestall any more calls to onSocketError, since we're signed
      // up for `'error'` *and* `'end'`
      this.expectSocketClose = true;
      safeEmit(this, 'error', err);
      const s = stackCapture('Socket error');
      this.toClosed(s, err);
    }
  }

  // A close has been initiated. Repeat: a close has been initiated.
  // This means we should not send more frames, anyway they will be
  // ignored. We also have to shut down all the channels.
  toClosing(capturedStack, k) {
    const send = this.sendMethod.bind(this);

    if (this.blocked) {
      if (k) k();
      const s = stackCapture('Connection blocked: closing immediately');
      this.toClosed(s, undefined);
      return;
    }

    this.accept = function (f) {
      if (f.id === defs.ConnectionCloseOk) {
        if (k) k();
        const s = stackCapture('ConnectionCloseOk received');
        this.toClosed(s, undefined);
      } else if (f.id === defs.ConnectionClose) {
        send(0, defs.ConnectionCloseOk, {});
      }
      // else ignore frame
    };
    invalidateSend(this, 'Connection closing', capturedStack);
  }

  _closeChannels(capturedStack) {
    for (let i = 1; i < this.channels.length; i++) {
      const ch = this.channels[i];
      if (ch !== null) {
        ch.channel.toClosed(capturedStack); // %%% or with an error? not clear
      }
    }
  }

  // A close has been confirmed. Cease all communication.
  toClosed(capturedStack, maybeErr) {
    this._closeChannels(capturedStack);
    const info = fmt('Connection closed (%s)', maybeErr ? maybeErr.toString() : 'by client');
    // Tidy up, invalidate enverything, dynamite the bridges.
    invalidateSend(this, info, capturedStack);
    this.accept = invalidOp(info, capturedStack);
    this.close = (cb) => {
      cb && cb(new IllegalOperationError(info, capturedStack));
    };
    if (this.heartbeater) this.heartbeater.clear();
    // This is certainly true now, if it wasn't before
    this.expectSocketClose = true;
    this.stream.end();
    safeEmit(this, 'close', maybeErr);
  }

  _updateSecret(newSecret, reason, cb) {
    this.sendMethod(0, defs.ConnectionUpdateSecret, {
      newSecret,
      reason,
    });
    this.once('update-secret-ok', cb);
  }

  // ===
  startHeartbeater() {
    if (this.heartbeat === 0) return null;
    else {
      const hb = new Heart(this.heartbeat, this.checkSend.bind(this), this.checkRecv.bind(this));
      hb.on('timeout', () => {
        const hberr = new Error('Heartbeat timeout');
        safeEmit(this, 'error', hberr);
        const s = stackCapture('Heartbeat timeout');
        this.toClosed(s, hberr);
      });
      hb.on('beat', () => {
        this.sendHeartbeat();
      });
      return hb;
    }
  }

  // I use an array to keep track of the channels, rather than an
  // object. The channel identifiers are numbers, and allocated by the
  // connection. If I try to allocate low numbers when they are
  // available (which I do, by looking from the start of the bitset),
  // this ought to keep the array small, and out of 'sparse array
  // storage'. I also set entries to null, rather than deleting them, in
  // the expectation that the next channel allocation will fill the slot
  // again rather than growing the array. See
  // http://www.html5rocks.com/en/tutorials/speed/v8/
  freshChannel(channel, options) {
    const next = this.freeChannels.nextClearBit(1);
    if (next < 0 || next > this.channelMax) throw new Error('No channels left to allocate');
    this.freeChannels.set(next);

    const hwm = (options && options.highWaterMark) || DEFAULT_WRITE_HWM;
    const writeBuffer = new PassThrough({
      objectMode: true,
      highWaterMark: hwm,
    });
    this.channels[next] = { channel: channel, buffer: writeBuffer };
    writeBuffer.on('drain', () => {
      channel.onBufferDrain();
    });
    this.muxer.pipeFrom(writeBuffer);
    return next;
  }

  releaseChannel(channel) {
    this.freeChannels.clear(channel);
    const buffer = this.channels[channel].buffer;
    buffer.end(); // will also cause it to be unpiped
    this.channels[channel] = null;
  }

  acceptLoop() {
    const self = this;

    function go() {
      try {
        let frame = self.recvFrame();
        while (frame) {
          self.accept(frame);
          frame = self.recvFrame();
        }
      } catch (e) {
        self.emit('frameError', e);
      }
    }
    self.stream.on('readable', go);
    go();
  }

  step(cb) {
    const self = this;
    function recv() {
      let f;
      try {
        f = self.recvFrame();
      } catch (e) {
        cb(e, null);
        return;
      }
      if (f) cb(null, f);
      else self.stream.once('readable', recv);
    }
    recv();
  }

  checkSend() {
    const check = this.sentSinceLastCheck;
    this.sentSinceLastCheck = false;
    return check;
  }

  checkRecv() {
    const check = this.recvSinceLastCheck;
    this.recvSinceLastCheck = false;
    return check;
  }

  sendBytes(bytes) {
    this.sentSinceLastCheck = true;
    this.stream.write(bytes);
  }

  sendHeartbeat() {
    return this.sendBytes(frame.HEARTBEAT_BUF);
  }

  sendMethod(channel, Method, fields) {
    const frame = encodeMethod(Method, channel, fields);
    this.sentSinceLastCheck = true;
    const buffer = this.channels[channel].buffer;
    return buffer.write(frame);
  }

  sendMessage(channel, Method, fields, Properties, props, content) {
    if (!Buffer.isBuffer(content)) throw new TypeError('content is not a buffer');

    const mframe = encodeMethod(Method, channel, fields);
    const pframe = encodeProperties(Properties, channel, content.length, props);
    const buffer = this.channels[channel].buffer;
    this.sentSinceLastCheck = true;

    const methodHeaderLen = mframe.length + pframe.length;
    const bodyLen = content.length > 0 ? content.length + FRAME_OVERHEAD : 0;
    const allLen = methodHeaderLen + bodyLen;

    if (allLen < SINGLE_CHUNK_THRESHOLD) {
      // Use `allocUnsafe` to avoid excessive allocations and CPU usage
      // from zeroing. The returned Buffer is not zeroed and so must be
      // completely filled to be used safely.
      // See https://github.com/amqp-node/amqplib/pull/695
      const all = Buffer.allocUnsafe(allLen);
      let offset = mframe.copy(all, 0);
      offset += pframe.copy(all, offset);

      if (bodyLen > 0) makeBodyFrame(channel, content).copy(all, offset);
      return buffer.write(all);
    } else {
      if (methodHeaderLen < SINGLE_CHUNK_THRESHOLD) {
        // Use `allocUnsafe` to avoid excessive allocations and CPU usage
        // from zeroing. The returned Buffer is not zeroed and so must be
        // completely filled to be used safely.
        // See https://github.com/amqp-node/amqplib/pull/695
        const both = Buffer.allocUnsafe(methodHeaderLen);
        const offset = mframe.copy(both, 0);
        pframe.copy(both, offset);
        buffer.write(both);
      } else {
        buffer.write(mframe);
        buffer.write(pframe);
      }
      return this.sendContent(channel, content);
    }
  }

  sendContent(channel, body) {
    if (!Buffer.isBuffer(body)) {
      throw new TypeError(fmt('Expected buffer; got %s', body));
    }
    let writeResult = true;
    const buffer = this.channels[channel].buffer;

    const maxBody = this.frameMax - FRAME_OVERHEAD;
    if (!(maxBody > 0)) {
      throw new Error(fmt('Cannot send content: frameMax %d leaves no room for a body frame', this.frameMax));
    }

    for (let offset = 0; offset < body.length; offset += maxBody) {
      const end = offset + maxBody;
      const slice = end > body.length ? body.subarray(offset) : body.subarray(offset, end);
      const bodyFrame = makeBodyFrame(channel, slice);
      writeResult = buffer.write(bodyFrame);
    }
    this.sentSinceLastCheck = true;
    return writeResult;
  }

  recvFrame() {
    // %%% identifying invariants might help here?
    const frame = parseFrame(this.rest, this.maxFrameSize);

    if (!frame) {
      const incoming = this.stream.read();
      if (incoming === null) {
        return false;
      } else {
        this.recvSinceLastCheck = true;
        this.rest = Buffer.concat([this.rest, incoming]);
        return this.recvFrame();
      }
    } else {
      this.rest = frame.rest;
      return decodeFrame(frame);
    }
  }
}

// Usual frame accept mode
function mainAccept(frame) {
  const rec = this.channels[frame.channel];
  if (rec) {
    return rec.channel.accept(frame);
  }
  // NB CHANNEL_ERROR may not be right, but I don't know what is ..
  else
    this.closeWithError(
      fmt('Frame on unknown channel %d', frame.channel),
      constants.CHANNEL_ERROR,
      new Error(fmt('Frame on unknown channel: %s', inspect(frame, false))),
    );
}

// Handle anything that comes through on channel 0, that's the
// connection control channel. This is only used once mainAccept is
// installed as the frame handler, after the opening handshake.
function channel0(connection) {
  return (f) => {
    // Once we get a 'close', we know 1. we'll get no more frames, and
    // 2. anything we send except close, or close-ok, will be
    // ignored. If we already sent 'close', this won't be invoked since
    // we're already in closing mode; if we didn't well we're not going
    // to send it now are we.
    if (f === HEARTBEAT); // ignore; it's already counted as activity
    // on the socket, which is its purpose
    else if (f.id === defs.ConnectionClose) {
      // Oh. OK. I guess we're done here then.
      connection.sendMethod(0, defs.ConnectionCloseOk, {});
      const emsg = fmt('Connection closed: %s', closeMsg(f));
      const s = stackCapture(emsg);
      const e = new Error(emsg);
      e.code = f.fields.replyCode;
      if (isFatalError(e)) {
        safeEmit(connection, 'error', e);
      }
      connection.toClosed(s, e);
    } else if (f.id === defs.ConnectionBlocked) {
      connection.blocked = true;
      safeEmit(connection, 'blocked', f.fields.reason);
    } else if (f.id === defs.ConnectionUnblocked) {
      connection.blocked = false;
      safeEmit(connection, 'unblocked');
    } else if (f.id === defs.ConnectionUpdateSecretOk) {
      safeEmit(connection, 'update-secret-ok');
    } else {
      connection.closeWithError(
        fmt('Unexpected frame on channel 0'),
        constants.UNEXPECTED_FRAME,
        new Error(fmt('Unexpected frame on channel 0: %s', inspect(f, false))),
      );
    }
  };
}

function invalidOp(msg, stack) {
  return () => {
    throw new IllegalOperationError(msg, stack);
  };
}

function invalidateSend(conn, msg, stack) {
  conn.sendMethod = conn.sendContent = conn.sendMessage = invalidOp(msg, stack);
}

const encodeMethod = defs.encodeMethod;
const encodeProperties = defs.encodeProperties;

const FRAME_OVERHEAD = defs.FRAME_OVERHEAD;
const makeBodyFrame = frame.makeBodyFrame;

const parseFrame = frame.parseFrame;
const decodeFrame = frame.decodeFrame;

function wrapStream(s) {
  if (s instanceof Duplex) return s;
  else {
    const ws = new Duplex();
    ws.wrap(s); //wraps the readable side of things
    ws._write = (chunk, encoding, callback) => s.write(chunk, encoding, callback);
    return ws;
  }
}

function isFatalError(error) {
  switch (error && error.code) {
    case defs.constants.CONNECTION_FORCED:
    case defs.constants.REPLY_SUCCESS:
      return false;
    default:
      return true;
  }
}

module.exports.Ng = Connection;
__webpack_unused_export__ = isFatalError;
__webpack_unused_export__ = DEFAULT_MAX_FRAME_SIZE;


/***/ }),

/***/ 17812:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

//
//
//

// Different kind of credentials that can be supplied when opening a
// connection, corresponding to SASL mechanisms There's only two
// useful mechanisms that RabbitMQ implements:
//  * PLAIN (send username and password in the plain)
//  * EXTERNAL (assume the server will figure out who you are from
//    context, i.e., your SSL certificate)
const codec = __webpack_require__(66820);

module.exports.plain = (user, passwd) => ({
  mechanism: 'PLAIN',
  response: () => Buffer.from(['', user, passwd].join(String.fromCharCode(0))),
  username: user,
  password: passwd,
});

module.exports.amqplain = (user, passwd) => ({
  mechanism: 'AMQPLAIN',
  response: () => {
    const buffer = Buffer.alloc(16384);
    const size = codec.encodeTable(buffer, { LOGIN: user, PASSWORD: passwd }, 0);
    return buffer.subarray(4, size);
  },
  username: user,
  password: passwd,
});

module.exports.external = () => ({
  mechanism: 'EXTERNAL',
  response: () => Buffer.from(''),
});


/***/ }),

/***/ 19516:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

/** @preserve This file is generated by the script
 * ../bin/generate-defs.js, which is not in general included in a
 * distribution, but is available in the source repository e.g. at
 * https://github.com/amqp-node/amqplib/
 */


function decodeBasicQos(buffer) {
  var val,
    offset = 0,
    fields = {
      prefetchSize: void 0,
      prefetchCount: void 0,
      global: void 0,
    };
  val = buffer.readUInt32BE(offset);
  offset += 4;
  fields.prefetchSize = val;
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.prefetchCount = val;
  val = !!(1 & buffer[offset]);
  fields.global = val;
  return fields;
}

function encodeBasicQos(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    buffer = Buffer.alloc(19);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932170, 7);
  offset = 11;
  val = fields.prefetchSize;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val))
    throw new TypeError("Field 'prefetchSize' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt32BE(val, offset);
  offset += 4;
  val = fields.prefetchCount;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val))
    throw new TypeError("Field 'prefetchCount' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.global;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicQosOk(buffer) {
  return {};
}

function encodeBasicQosOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932171, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicConsume(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      queue: void 0,
      consumerTag: void 0,
      noLocal: void 0,
      noAck: void 0,
      exclusive: void 0,
      nowait: void 0,
      arguments: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.queue = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.consumerTag = val;
  val = !!(1 & buffer[offset]);
  fields.noLocal = val;
  val = !!(2 & buffer[offset]);
  fields.noAck = val;
  val = !!(4 & buffer[offset]);
  fields.exclusive = val;
  val = !!(8 & buffer[offset]);
  fields.nowait = val;
  offset++;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = decodeFields(buffer.subarray(offset, offset + len));
  offset += len;
  fields.arguments = val;
  return fields;
}

function encodeBasicConsume(channel, fields) {
  var len,
    offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0,
    scratchOffset = 0;
  val = fields.queue;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'queue' is the wrong type; must be a string (up to 255 chars)");
  var queue_len = Buffer.byteLength(val, 'utf8');
  varyingSize += queue_len;
  val = fields.consumerTag;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'consumerTag' is the wrong type; must be a string (up to 255 chars)");
  var consumerTag_len = Buffer.byteLength(val, 'utf8');
  varyingSize += consumerTag_len;
  val = fields.arguments;
  if (void 0 === val) val = {};
  else if ('object' != typeof val) throw new TypeError("Field 'arguments' is the wrong type; must be an object");
  len = encodeTable(SCRATCH, val, scratchOffset);
  var arguments_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
  scratchOffset += len;
  varyingSize += arguments_encoded.length;
  var buffer = Buffer.alloc(17 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932180, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.queue;
  void 0 === val && (val = '');
  buffer[offset] = queue_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += queue_len;
  val = fields.consumerTag;
  void 0 === val && (val = '');
  buffer[offset] = consumerTag_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += consumerTag_len;
  val = fields.noLocal;
  void 0 === val && (val = !1);
  val && (bits += 1);
  val = fields.noAck;
  void 0 === val && (val = !1);
  val && (bits += 2);
  val = fields.exclusive;
  void 0 === val && (val = !1);
  val && (bits += 4);
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 8);
  buffer[offset] = bits;
  offset++;
  bits = 0;
  offset += arguments_encoded.copy(buffer, offset);
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicConsumeOk(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      consumerTag: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.consumerTag = val;
  return fields;
}

function encodeBasicConsumeOk(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.consumerTag;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'consumerTag'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'consumerTag' is the wrong type; must be a string (up to 255 chars)");
  var consumerTag_len = Buffer.byteLength(val, 'utf8');
  varyingSize += consumerTag_len;
  var buffer = Buffer.alloc(13 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932181, 7);
  offset = 11;
  val = fields.consumerTag;
  void 0 === val && (val = void 0);
  buffer[offset] = consumerTag_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += consumerTag_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicCancel(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      consumerTag: void 0,
      nowait: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.consumerTag = val;
  val = !!(1 & buffer[offset]);
  fields.nowait = val;
  return fields;
}

function encodeBasicCancel(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.consumerTag;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'consumerTag'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'consumerTag' is the wrong type; must be a string (up to 255 chars)");
  var consumerTag_len = Buffer.byteLength(val, 'utf8');
  varyingSize += consumerTag_len;
  var buffer = Buffer.alloc(14 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932190, 7);
  offset = 11;
  val = fields.consumerTag;
  void 0 === val && (val = void 0);
  buffer[offset] = consumerTag_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += consumerTag_len;
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicCancelOk(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      consumerTag: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.consumerTag = val;
  return fields;
}

function encodeBasicCancelOk(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.consumerTag;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'consumerTag'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'consumerTag' is the wrong type; must be a string (up to 255 chars)");
  var consumerTag_len = Buffer.byteLength(val, 'utf8');
  varyingSize += consumerTag_len;
  var buffer = Buffer.alloc(13 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932191, 7);
  offset = 11;
  val = fields.consumerTag;
  void 0 === val && (val = void 0);
  buffer[offset] = consumerTag_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += consumerTag_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicPublish(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      exchange: void 0,
      routingKey: void 0,
      mandatory: void 0,
      immediate: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.exchange = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.routingKey = val;
  val = !!(1 & buffer[offset]);
  fields.mandatory = val;
  val = !!(2 & buffer[offset]);
  fields.immediate = val;
  return fields;
}

function encodeBasicPublish(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.exchange;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'exchange' is the wrong type; must be a string (up to 255 chars)");
  var exchange_len = Buffer.byteLength(val, 'utf8');
  varyingSize += exchange_len;
  val = fields.routingKey;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'routingKey' is the wrong type; must be a string (up to 255 chars)");
  var routingKey_len = Buffer.byteLength(val, 'utf8');
  varyingSize += routingKey_len;
  var buffer = Buffer.alloc(17 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932200, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.exchange;
  void 0 === val && (val = '');
  buffer[offset] = exchange_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += exchange_len;
  val = fields.routingKey;
  void 0 === val && (val = '');
  buffer[offset] = routingKey_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += routingKey_len;
  val = fields.mandatory;
  void 0 === val && (val = !1);
  val && (bits += 1);
  val = fields.immediate;
  void 0 === val && (val = !1);
  val && (bits += 2);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicReturn(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      replyCode: void 0,
      replyText: void 0,
      exchange: void 0,
      routingKey: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.replyCode = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.replyText = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.exchange = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.routingKey = val;
  return fields;
}

function encodeBasicReturn(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.replyText;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'replyText' is the wrong type; must be a string (up to 255 chars)");
  var replyText_len = Buffer.byteLength(val, 'utf8');
  varyingSize += replyText_len;
  val = fields.exchange;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'exchange'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'exchange' is the wrong type; must be a string (up to 255 chars)");
  var exchange_len = Buffer.byteLength(val, 'utf8');
  varyingSize += exchange_len;
  val = fields.routingKey;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'routingKey'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'routingKey' is the wrong type; must be a string (up to 255 chars)");
  var routingKey_len = Buffer.byteLength(val, 'utf8');
  varyingSize += routingKey_len;
  var buffer = Buffer.alloc(17 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932210, 7);
  offset = 11;
  val = fields.replyCode;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'replyCode'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'replyCode' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.replyText;
  void 0 === val && (val = '');
  buffer[offset] = replyText_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += replyText_len;
  val = fields.exchange;
  void 0 === val && (val = void 0);
  buffer[offset] = exchange_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += exchange_len;
  val = fields.routingKey;
  void 0 === val && (val = void 0);
  buffer[offset] = routingKey_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += routingKey_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicDeliver(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      consumerTag: void 0,
      deliveryTag: void 0,
      redelivered: void 0,
      exchange: void 0,
      routingKey: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.consumerTag = val;
  val = Number(buffer.readBigUInt64BE(offset));
  offset += 8;
  fields.deliveryTag = val;
  val = !!(1 & buffer[offset]);
  fields.redelivered = val;
  offset++;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.exchange = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.routingKey = val;
  return fields;
}

function encodeBasicDeliver(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.consumerTag;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'consumerTag'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'consumerTag' is the wrong type; must be a string (up to 255 chars)");
  var consumerTag_len = Buffer.byteLength(val, 'utf8');
  varyingSize += consumerTag_len;
  val = fields.exchange;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'exchange'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'exchange' is the wrong type; must be a string (up to 255 chars)");
  var exchange_len = Buffer.byteLength(val, 'utf8');
  varyingSize += exchange_len;
  val = fields.routingKey;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'routingKey'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'routingKey' is the wrong type; must be a string (up to 255 chars)");
  var routingKey_len = Buffer.byteLength(val, 'utf8');
  varyingSize += routingKey_len;
  var buffer = Buffer.alloc(24 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932220, 7);
  offset = 11;
  val = fields.consumerTag;
  void 0 === val && (val = void 0);
  buffer[offset] = consumerTag_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += consumerTag_len;
  val = fields.deliveryTag;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'deliveryTag'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'deliveryTag' is the wrong type; must be a number (but not NaN)");
  buffer.writeBigUInt64BE(BigInt(val), offset);
  offset += 8;
  val = fields.redelivered;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  bits = 0;
  val = fields.exchange;
  void 0 === val && (val = void 0);
  buffer[offset] = exchange_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += exchange_len;
  val = fields.routingKey;
  void 0 === val && (val = void 0);
  buffer[offset] = routingKey_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += routingKey_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicGet(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      queue: void 0,
      noAck: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.queue = val;
  val = !!(1 & buffer[offset]);
  fields.noAck = val;
  return fields;
}

function encodeBasicGet(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.queue;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'queue' is the wrong type; must be a string (up to 255 chars)");
  var queue_len = Buffer.byteLength(val, 'utf8');
  varyingSize += queue_len;
  var buffer = Buffer.alloc(16 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932230, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.queue;
  void 0 === val && (val = '');
  buffer[offset] = queue_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += queue_len;
  val = fields.noAck;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicGetOk(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      deliveryTag: void 0,
      redelivered: void 0,
      exchange: void 0,
      routingKey: void 0,
      messageCount: void 0,
    };
  val = Number(buffer.readBigUInt64BE(offset));
  offset += 8;
  fields.deliveryTag = val;
  val = !!(1 & buffer[offset]);
  fields.redelivered = val;
  offset++;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.exchange = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.routingKey = val;
  val = buffer.readUInt32BE(offset);
  offset += 4;
  fields.messageCount = val;
  return fields;
}

function encodeBasicGetOk(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.exchange;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'exchange'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'exchange' is the wrong type; must be a string (up to 255 chars)");
  var exchange_len = Buffer.byteLength(val, 'utf8');
  varyingSize += exchange_len;
  val = fields.routingKey;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'routingKey'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'routingKey' is the wrong type; must be a string (up to 255 chars)");
  var routingKey_len = Buffer.byteLength(val, 'utf8');
  varyingSize += routingKey_len;
  var buffer = Buffer.alloc(27 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932231, 7);
  offset = 11;
  val = fields.deliveryTag;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'deliveryTag'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'deliveryTag' is the wrong type; must be a number (but not NaN)");
  buffer.writeBigUInt64BE(BigInt(val), offset);
  offset += 8;
  val = fields.redelivered;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  bits = 0;
  val = fields.exchange;
  void 0 === val && (val = void 0);
  buffer[offset] = exchange_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += exchange_len;
  val = fields.routingKey;
  void 0 === val && (val = void 0);
  buffer[offset] = routingKey_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += routingKey_len;
  val = fields.messageCount;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'messageCount'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'messageCount' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt32BE(val, offset);
  offset += 4;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicGetEmpty(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      clusterId: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.clusterId = val;
  return fields;
}

function encodeBasicGetEmpty(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.clusterId;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'clusterId' is the wrong type; must be a string (up to 255 chars)");
  var clusterId_len = Buffer.byteLength(val, 'utf8');
  varyingSize += clusterId_len;
  var buffer = Buffer.alloc(13 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932232, 7);
  offset = 11;
  val = fields.clusterId;
  void 0 === val && (val = '');
  buffer[offset] = clusterId_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += clusterId_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicAck(buffer) {
  var val,
    offset = 0,
    fields = {
      deliveryTag: void 0,
      multiple: void 0,
    };
  val = Number(buffer.readBigUInt64BE(offset));
  offset += 8;
  fields.deliveryTag = val;
  val = !!(1 & buffer[offset]);
  fields.multiple = val;
  return fields;
}

function encodeBasicAck(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    buffer = Buffer.alloc(21);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932240, 7);
  offset = 11;
  val = fields.deliveryTag;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val))
    throw new TypeError("Field 'deliveryTag' is the wrong type; must be a number (but not NaN)");
  buffer.writeBigUInt64BE(BigInt(val), offset);
  offset += 8;
  val = fields.multiple;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicReject(buffer) {
  var val,
    offset = 0,
    fields = {
      deliveryTag: void 0,
      requeue: void 0,
    };
  val = Number(buffer.readBigUInt64BE(offset));
  offset += 8;
  fields.deliveryTag = val;
  val = !!(1 & buffer[offset]);
  fields.requeue = val;
  return fields;
}

function encodeBasicReject(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    buffer = Buffer.alloc(21);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932250, 7);
  offset = 11;
  val = fields.deliveryTag;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'deliveryTag'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'deliveryTag' is the wrong type; must be a number (but not NaN)");
  buffer.writeBigUInt64BE(BigInt(val), offset);
  offset += 8;
  val = fields.requeue;
  void 0 === val && (val = !0);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicRecoverAsync(buffer) {
  var val,
    fields = {
      requeue: void 0,
    };
  val = !!(1 & buffer[0]);
  fields.requeue = val;
  return fields;
}

function encodeBasicRecoverAsync(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    buffer = Buffer.alloc(13);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932260, 7);
  offset = 11;
  val = fields.requeue;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicRecover(buffer) {
  var val,
    fields = {
      requeue: void 0,
    };
  val = !!(1 & buffer[0]);
  fields.requeue = val;
  return fields;
}

function encodeBasicRecover(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    buffer = Buffer.alloc(13);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932270, 7);
  offset = 11;
  val = fields.requeue;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicRecoverOk(buffer) {
  return {};
}

function encodeBasicRecoverOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932271, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeBasicNack(buffer) {
  var val,
    offset = 0,
    fields = {
      deliveryTag: void 0,
      multiple: void 0,
      requeue: void 0,
    };
  val = Number(buffer.readBigUInt64BE(offset));
  offset += 8;
  fields.deliveryTag = val;
  val = !!(1 & buffer[offset]);
  fields.multiple = val;
  val = !!(2 & buffer[offset]);
  fields.requeue = val;
  return fields;
}

function encodeBasicNack(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    buffer = Buffer.alloc(21);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932280, 7);
  offset = 11;
  val = fields.deliveryTag;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val))
    throw new TypeError("Field 'deliveryTag' is the wrong type; must be a number (but not NaN)");
  buffer.writeBigUInt64BE(BigInt(val), offset);
  offset += 8;
  val = fields.multiple;
  void 0 === val && (val = !1);
  val && (bits += 1);
  val = fields.requeue;
  void 0 === val && (val = !0);
  val && (bits += 2);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionStart(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      versionMajor: void 0,
      versionMinor: void 0,
      serverProperties: void 0,
      mechanisms: void 0,
      locales: void 0,
    };
  val = buffer[offset];
  offset++;
  fields.versionMajor = val;
  val = buffer[offset];
  offset++;
  fields.versionMinor = val;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = decodeFields(buffer.subarray(offset, offset + len));
  offset += len;
  fields.serverProperties = val;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = buffer.subarray(offset, offset + len);
  offset += len;
  fields.mechanisms = val;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = buffer.subarray(offset, offset + len);
  offset += len;
  fields.locales = val;
  return fields;
}

function encodeConnectionStart(channel, fields) {
  var len,
    offset = 0,
    val = null,
    varyingSize = 0,
    scratchOffset = 0;
  val = fields.serverProperties;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'serverProperties'");
  if ('object' != typeof val) throw new TypeError("Field 'serverProperties' is the wrong type; must be an object");
  len = encodeTable(SCRATCH, val, scratchOffset);
  var serverProperties_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
  scratchOffset += len;
  varyingSize += serverProperties_encoded.length;
  val = fields.mechanisms;
  if (void 0 === val) val = Buffer.from('PLAIN');
  else if (!Buffer.isBuffer(val)) throw new TypeError("Field 'mechanisms' is the wrong type; must be a Buffer");
  varyingSize += val.length;
  val = fields.locales;
  if (void 0 === val) val = Buffer.from('en_US');
  else if (!Buffer.isBuffer(val)) throw new TypeError("Field 'locales' is the wrong type; must be a Buffer");
  varyingSize += val.length;
  var buffer = Buffer.alloc(22 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655370, 7);
  offset = 11;
  val = fields.versionMajor;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val))
    throw new TypeError("Field 'versionMajor' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt8(val, offset);
  offset++;
  val = fields.versionMinor;
  if (void 0 === val) val = 9;
  else if ('number' != typeof val || isNaN(val))
    throw new TypeError("Field 'versionMinor' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt8(val, offset);
  offset++;
  offset += serverProperties_encoded.copy(buffer, offset);
  val = fields.mechanisms;
  void 0 === val && (val = Buffer.from('PLAIN'));
  len = val.length;
  buffer.writeUInt32BE(len, offset);
  offset += 4;
  val.copy(buffer, offset);
  offset += len;
  val = fields.locales;
  void 0 === val && (val = Buffer.from('en_US'));
  len = val.length;
  buffer.writeUInt32BE(len, offset);
  offset += 4;
  val.copy(buffer, offset);
  offset += len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionStartOk(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      clientProperties: void 0,
      mechanism: void 0,
      response: void 0,
      locale: void 0,
    };
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = decodeFields(buffer.subarray(offset, offset + len));
  offset += len;
  fields.clientProperties = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.mechanism = val;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = buffer.subarray(offset, offset + len);
  offset += len;
  fields.response = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.locale = val;
  return fields;
}

function encodeConnectionStartOk(channel, fields) {
  var len,
    offset = 0,
    val = null,
    varyingSize = 0,
    scratchOffset = 0;
  val = fields.clientProperties;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'clientProperties'");
  if ('object' != typeof val) throw new TypeError("Field 'clientProperties' is the wrong type; must be an object");
  len = encodeTable(SCRATCH, val, scratchOffset);
  var clientProperties_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
  scratchOffset += len;
  varyingSize += clientProperties_encoded.length;
  val = fields.mechanism;
  if (void 0 === val) val = 'PLAIN';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'mechanism' is the wrong type; must be a string (up to 255 chars)");
  var mechanism_len = Buffer.byteLength(val, 'utf8');
  varyingSize += mechanism_len;
  val = fields.response;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'response'");
  if (!Buffer.isBuffer(val)) throw new TypeError("Field 'response' is the wrong type; must be a Buffer");
  varyingSize += val.length;
  val = fields.locale;
  if (void 0 === val) val = 'en_US';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'locale' is the wrong type; must be a string (up to 255 chars)");
  var locale_len = Buffer.byteLength(val, 'utf8');
  varyingSize += locale_len;
  var buffer = Buffer.alloc(18 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655371, 7);
  offset = 11;
  offset += clientProperties_encoded.copy(buffer, offset);
  val = fields.mechanism;
  void 0 === val && (val = 'PLAIN');
  buffer[offset] = mechanism_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += mechanism_len;
  val = fields.response;
  void 0 === val && (val = Buffer.from(void 0));
  len = val.length;
  buffer.writeUInt32BE(len, offset);
  offset += 4;
  val.copy(buffer, offset);
  offset += len;
  val = fields.locale;
  void 0 === val && (val = 'en_US');
  buffer[offset] = locale_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += locale_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionSecure(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      challenge: void 0,
    };
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = buffer.subarray(offset, offset + len);
  offset += len;
  fields.challenge = val;
  return fields;
}

function encodeConnectionSecure(channel, fields) {
  var len,
    offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.challenge;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'challenge'");
  if (!Buffer.isBuffer(val)) throw new TypeError("Field 'challenge' is the wrong type; must be a Buffer");
  varyingSize += val.length;
  var buffer = Buffer.alloc(16 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655380, 7);
  offset = 11;
  val = fields.challenge;
  void 0 === val && (val = Buffer.from(void 0));
  len = val.length;
  buffer.writeUInt32BE(len, offset);
  offset += 4;
  val.copy(buffer, offset);
  offset += len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionSecureOk(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      response: void 0,
    };
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = buffer.subarray(offset, offset + len);
  offset += len;
  fields.response = val;
  return fields;
}

function encodeConnectionSecureOk(channel, fields) {
  var len,
    offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.response;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'response'");
  if (!Buffer.isBuffer(val)) throw new TypeError("Field 'response' is the wrong type; must be a Buffer");
  varyingSize += val.length;
  var buffer = Buffer.alloc(16 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655381, 7);
  offset = 11;
  val = fields.response;
  void 0 === val && (val = Buffer.from(void 0));
  len = val.length;
  buffer.writeUInt32BE(len, offset);
  offset += 4;
  val.copy(buffer, offset);
  offset += len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionTune(buffer) {
  var val,
    offset = 0,
    fields = {
      channelMax: void 0,
      frameMax: void 0,
      heartbeat: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.channelMax = val;
  val = buffer.readUInt32BE(offset);
  offset += 4;
  fields.frameMax = val;
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.heartbeat = val;
  return fields;
}

function encodeConnectionTune(channel, fields) {
  var offset = 0,
    val = null,
    buffer = Buffer.alloc(20);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655390, 7);
  offset = 11;
  val = fields.channelMax;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val))
    throw new TypeError("Field 'channelMax' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.frameMax;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'frameMax' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt32BE(val, offset);
  offset += 4;
  val = fields.heartbeat;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'heartbeat' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionTuneOk(buffer) {
  var val,
    offset = 0,
    fields = {
      channelMax: void 0,
      frameMax: void 0,
      heartbeat: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.channelMax = val;
  val = buffer.readUInt32BE(offset);
  offset += 4;
  fields.frameMax = val;
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.heartbeat = val;
  return fields;
}

function encodeConnectionTuneOk(channel, fields) {
  var offset = 0,
    val = null,
    buffer = Buffer.alloc(20);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655391, 7);
  offset = 11;
  val = fields.channelMax;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val))
    throw new TypeError("Field 'channelMax' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.frameMax;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'frameMax' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt32BE(val, offset);
  offset += 4;
  val = fields.heartbeat;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'heartbeat' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionOpen(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      virtualHost: void 0,
      capabilities: void 0,
      insist: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.virtualHost = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.capabilities = val;
  val = !!(1 & buffer[offset]);
  fields.insist = val;
  return fields;
}

function encodeConnectionOpen(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.virtualHost;
  if (void 0 === val) val = '/';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'virtualHost' is the wrong type; must be a string (up to 255 chars)");
  var virtualHost_len = Buffer.byteLength(val, 'utf8');
  varyingSize += virtualHost_len;
  val = fields.capabilities;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'capabilities' is the wrong type; must be a string (up to 255 chars)");
  var capabilities_len = Buffer.byteLength(val, 'utf8');
  varyingSize += capabilities_len;
  var buffer = Buffer.alloc(15 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655400, 7);
  offset = 11;
  val = fields.virtualHost;
  void 0 === val && (val = '/');
  buffer[offset] = virtualHost_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += virtualHost_len;
  val = fields.capabilities;
  void 0 === val && (val = '');
  buffer[offset] = capabilities_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += capabilities_len;
  val = fields.insist;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionOpenOk(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      knownHosts: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.knownHosts = val;
  return fields;
}

function encodeConnectionOpenOk(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.knownHosts;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'knownHosts' is the wrong type; must be a string (up to 255 chars)");
  var knownHosts_len = Buffer.byteLength(val, 'utf8');
  varyingSize += knownHosts_len;
  var buffer = Buffer.alloc(13 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655401, 7);
  offset = 11;
  val = fields.knownHosts;
  void 0 === val && (val = '');
  buffer[offset] = knownHosts_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += knownHosts_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionClose(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      replyCode: void 0,
      replyText: void 0,
      classId: void 0,
      methodId: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.replyCode = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.replyText = val;
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.classId = val;
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.methodId = val;
  return fields;
}

function encodeConnectionClose(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.replyText;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'replyText' is the wrong type; must be a string (up to 255 chars)");
  var replyText_len = Buffer.byteLength(val, 'utf8');
  varyingSize += replyText_len;
  var buffer = Buffer.alloc(19 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655410, 7);
  offset = 11;
  val = fields.replyCode;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'replyCode'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'replyCode' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.replyText;
  void 0 === val && (val = '');
  buffer[offset] = replyText_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += replyText_len;
  val = fields.classId;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'classId'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'classId' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.methodId;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'methodId'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'methodId' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionCloseOk(buffer) {
  return {};
}

function encodeConnectionCloseOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655411, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionBlocked(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      reason: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.reason = val;
  return fields;
}

function encodeConnectionBlocked(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.reason;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'reason' is the wrong type; must be a string (up to 255 chars)");
  var reason_len = Buffer.byteLength(val, 'utf8');
  varyingSize += reason_len;
  var buffer = Buffer.alloc(13 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655420, 7);
  offset = 11;
  val = fields.reason;
  void 0 === val && (val = '');
  buffer[offset] = reason_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += reason_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionUnblocked(buffer) {
  return {};
}

function encodeConnectionUnblocked(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655421, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionUpdateSecret(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      newSecret: void 0,
      reason: void 0,
    };
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = buffer.subarray(offset, offset + len);
  offset += len;
  fields.newSecret = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.reason = val;
  return fields;
}

function encodeConnectionUpdateSecret(channel, fields) {
  var len,
    offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.newSecret;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'newSecret'");
  if (!Buffer.isBuffer(val)) throw new TypeError("Field 'newSecret' is the wrong type; must be a Buffer");
  varyingSize += val.length;
  val = fields.reason;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'reason'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'reason' is the wrong type; must be a string (up to 255 chars)");
  var reason_len = Buffer.byteLength(val, 'utf8');
  varyingSize += reason_len;
  var buffer = Buffer.alloc(17 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655430, 7);
  offset = 11;
  val = fields.newSecret;
  void 0 === val && (val = Buffer.from(void 0));
  len = val.length;
  buffer.writeUInt32BE(len, offset);
  offset += 4;
  val.copy(buffer, offset);
  offset += len;
  val = fields.reason;
  void 0 === val && (val = void 0);
  buffer[offset] = reason_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += reason_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConnectionUpdateSecretOk(buffer) {
  return {};
}

function encodeConnectionUpdateSecretOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(655431, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeChannelOpen(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      outOfBand: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.outOfBand = val;
  return fields;
}

function encodeChannelOpen(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.outOfBand;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'outOfBand' is the wrong type; must be a string (up to 255 chars)");
  var outOfBand_len = Buffer.byteLength(val, 'utf8');
  varyingSize += outOfBand_len;
  var buffer = Buffer.alloc(13 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(1310730, 7);
  offset = 11;
  val = fields.outOfBand;
  void 0 === val && (val = '');
  buffer[offset] = outOfBand_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += outOfBand_len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeChannelOpenOk(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      channelId: void 0,
    };
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = buffer.subarray(offset, offset + len);
  offset += len;
  fields.channelId = val;
  return fields;
}

function encodeChannelOpenOk(channel, fields) {
  var len,
    offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.channelId;
  if (void 0 === val) val = Buffer.from('');
  else if (!Buffer.isBuffer(val)) throw new TypeError("Field 'channelId' is the wrong type; must be a Buffer");
  varyingSize += val.length;
  var buffer = Buffer.alloc(16 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(1310731, 7);
  offset = 11;
  val = fields.channelId;
  void 0 === val && (val = Buffer.from(''));
  len = val.length;
  buffer.writeUInt32BE(len, offset);
  offset += 4;
  val.copy(buffer, offset);
  offset += len;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeChannelFlow(buffer) {
  var val,
    fields = {
      active: void 0,
    };
  val = !!(1 & buffer[0]);
  fields.active = val;
  return fields;
}

function encodeChannelFlow(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    buffer = Buffer.alloc(13);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(1310740, 7);
  offset = 11;
  val = fields.active;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'active'");
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeChannelFlowOk(buffer) {
  var val,
    fields = {
      active: void 0,
    };
  val = !!(1 & buffer[0]);
  fields.active = val;
  return fields;
}

function encodeChannelFlowOk(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    buffer = Buffer.alloc(13);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(1310741, 7);
  offset = 11;
  val = fields.active;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'active'");
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeChannelClose(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      replyCode: void 0,
      replyText: void 0,
      classId: void 0,
      methodId: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.replyCode = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.replyText = val;
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.classId = val;
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.methodId = val;
  return fields;
}

function encodeChannelClose(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.replyText;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'replyText' is the wrong type; must be a string (up to 255 chars)");
  var replyText_len = Buffer.byteLength(val, 'utf8');
  varyingSize += replyText_len;
  var buffer = Buffer.alloc(19 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(1310760, 7);
  offset = 11;
  val = fields.replyCode;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'replyCode'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'replyCode' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.replyText;
  void 0 === val && (val = '');
  buffer[offset] = replyText_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += replyText_len;
  val = fields.classId;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'classId'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'classId' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.methodId;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'methodId'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'methodId' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeChannelCloseOk(buffer) {
  return {};
}

function encodeChannelCloseOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(1310761, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeAccessRequest(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      realm: void 0,
      exclusive: void 0,
      passive: void 0,
      active: void 0,
      write: void 0,
      read: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.realm = val;
  val = !!(1 & buffer[offset]);
  fields.exclusive = val;
  val = !!(2 & buffer[offset]);
  fields.passive = val;
  val = !!(4 & buffer[offset]);
  fields.active = val;
  val = !!(8 & buffer[offset]);
  fields.write = val;
  val = !!(16 & buffer[offset]);
  fields.read = val;
  return fields;
}

function encodeAccessRequest(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.realm;
  if (void 0 === val) val = '/data';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'realm' is the wrong type; must be a string (up to 255 chars)");
  var realm_len = Buffer.byteLength(val, 'utf8');
  varyingSize += realm_len;
  var buffer = Buffer.alloc(14 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(1966090, 7);
  offset = 11;
  val = fields.realm;
  void 0 === val && (val = '/data');
  buffer[offset] = realm_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += realm_len;
  val = fields.exclusive;
  void 0 === val && (val = !1);
  val && (bits += 1);
  val = fields.passive;
  void 0 === val && (val = !0);
  val && (bits += 2);
  val = fields.active;
  void 0 === val && (val = !0);
  val && (bits += 4);
  val = fields.write;
  void 0 === val && (val = !0);
  val && (bits += 8);
  val = fields.read;
  void 0 === val && (val = !0);
  val && (bits += 16);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeAccessRequestOk(buffer) {
  var val,
    offset = 0,
    fields = {
      ticket: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  return fields;
}

function encodeAccessRequestOk(channel, fields) {
  var offset = 0,
    val = null,
    buffer = Buffer.alloc(14);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(1966091, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 1;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeExchangeDeclare(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      exchange: void 0,
      type: void 0,
      passive: void 0,
      durable: void 0,
      autoDelete: void 0,
      internal: void 0,
      nowait: void 0,
      arguments: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.exchange = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.type = val;
  val = !!(1 & buffer[offset]);
  fields.passive = val;
  val = !!(2 & buffer[offset]);
  fields.durable = val;
  val = !!(4 & buffer[offset]);
  fields.autoDelete = val;
  val = !!(8 & buffer[offset]);
  fields.internal = val;
  val = !!(16 & buffer[offset]);
  fields.nowait = val;
  offset++;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = decodeFields(buffer.subarray(offset, offset + len));
  offset += len;
  fields.arguments = val;
  return fields;
}

function encodeExchangeDeclare(channel, fields) {
  var len,
    offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0,
    scratchOffset = 0;
  val = fields.exchange;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'exchange'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'exchange' is the wrong type; must be a string (up to 255 chars)");
  var exchange_len = Buffer.byteLength(val, 'utf8');
  varyingSize += exchange_len;
  val = fields.type;
  if (void 0 === val) val = 'direct';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'type' is the wrong type; must be a string (up to 255 chars)");
  var type_len = Buffer.byteLength(val, 'utf8');
  varyingSize += type_len;
  val = fields.arguments;
  if (void 0 === val) val = {};
  else if ('object' != typeof val) throw new TypeError("Field 'arguments' is the wrong type; must be an object");
  len = encodeTable(SCRATCH, val, scratchOffset);
  var arguments_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
  scratchOffset += len;
  varyingSize += arguments_encoded.length;
  var buffer = Buffer.alloc(17 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(2621450, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.exchange;
  void 0 === val && (val = void 0);
  buffer[offset] = exchange_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += exchange_len;
  val = fields.type;
  void 0 === val && (val = 'direct');
  buffer[offset] = type_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += type_len;
  val = fields.passive;
  void 0 === val && (val = !1);
  val && (bits += 1);
  val = fields.durable;
  void 0 === val && (val = !1);
  val && (bits += 2);
  val = fields.autoDelete;
  void 0 === val && (val = !1);
  val && (bits += 4);
  val = fields.internal;
  void 0 === val && (val = !1);
  val && (bits += 8);
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 16);
  buffer[offset] = bits;
  offset++;
  bits = 0;
  offset += arguments_encoded.copy(buffer, offset);
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeExchangeDeclareOk(buffer) {
  return {};
}

function encodeExchangeDeclareOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(2621451, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeExchangeDelete(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      exchange: void 0,
      ifUnused: void 0,
      nowait: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.exchange = val;
  val = !!(1 & buffer[offset]);
  fields.ifUnused = val;
  val = !!(2 & buffer[offset]);
  fields.nowait = val;
  return fields;
}

function encodeExchangeDelete(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.exchange;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'exchange'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'exchange' is the wrong type; must be a string (up to 255 chars)");
  var exchange_len = Buffer.byteLength(val, 'utf8');
  varyingSize += exchange_len;
  var buffer = Buffer.alloc(16 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(2621460, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.exchange;
  void 0 === val && (val = void 0);
  buffer[offset] = exchange_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += exchange_len;
  val = fields.ifUnused;
  void 0 === val && (val = !1);
  val && (bits += 1);
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 2);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeExchangeDeleteOk(buffer) {
  return {};
}

function encodeExchangeDeleteOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(2621461, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeExchangeBind(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      destination: void 0,
      source: void 0,
      routingKey: void 0,
      nowait: void 0,
      arguments: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.destination = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.source = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.routingKey = val;
  val = !!(1 & buffer[offset]);
  fields.nowait = val;
  offset++;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = decodeFields(buffer.subarray(offset, offset + len));
  offset += len;
  fields.arguments = val;
  return fields;
}

function encodeExchangeBind(channel, fields) {
  var len,
    offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0,
    scratchOffset = 0;
  val = fields.destination;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'destination'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'destination' is the wrong type; must be a string (up to 255 chars)");
  var destination_len = Buffer.byteLength(val, 'utf8');
  varyingSize += destination_len;
  val = fields.source;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'source'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'source' is the wrong type; must be a string (up to 255 chars)");
  var source_len = Buffer.byteLength(val, 'utf8');
  varyingSize += source_len;
  val = fields.routingKey;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'routingKey' is the wrong type; must be a string (up to 255 chars)");
  var routingKey_len = Buffer.byteLength(val, 'utf8');
  varyingSize += routingKey_len;
  val = fields.arguments;
  if (void 0 === val) val = {};
  else if ('object' != typeof val) throw new TypeError("Field 'arguments' is the wrong type; must be an object");
  len = encodeTable(SCRATCH, val, scratchOffset);
  var arguments_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
  scratchOffset += len;
  varyingSize += arguments_encoded.length;
  var buffer = Buffer.alloc(18 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(2621470, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.destination;
  void 0 === val && (val = void 0);
  buffer[offset] = destination_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += destination_len;
  val = fields.source;
  void 0 === val && (val = void 0);
  buffer[offset] = source_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += source_len;
  val = fields.routingKey;
  void 0 === val && (val = '');
  buffer[offset] = routingKey_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += routingKey_len;
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  bits = 0;
  offset += arguments_encoded.copy(buffer, offset);
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeExchangeBindOk(buffer) {
  return {};
}

function encodeExchangeBindOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(2621471, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeExchangeUnbind(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      destination: void 0,
      source: void 0,
      routingKey: void 0,
      nowait: void 0,
      arguments: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.destination = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.source = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.routingKey = val;
  val = !!(1 & buffer[offset]);
  fields.nowait = val;
  offset++;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = decodeFields(buffer.subarray(offset, offset + len));
  offset += len;
  fields.arguments = val;
  return fields;
}

function encodeExchangeUnbind(channel, fields) {
  var len,
    offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0,
    scratchOffset = 0;
  val = fields.destination;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'destination'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'destination' is the wrong type; must be a string (up to 255 chars)");
  var destination_len = Buffer.byteLength(val, 'utf8');
  varyingSize += destination_len;
  val = fields.source;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'source'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'source' is the wrong type; must be a string (up to 255 chars)");
  var source_len = Buffer.byteLength(val, 'utf8');
  varyingSize += source_len;
  val = fields.routingKey;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'routingKey' is the wrong type; must be a string (up to 255 chars)");
  var routingKey_len = Buffer.byteLength(val, 'utf8');
  varyingSize += routingKey_len;
  val = fields.arguments;
  if (void 0 === val) val = {};
  else if ('object' != typeof val) throw new TypeError("Field 'arguments' is the wrong type; must be an object");
  len = encodeTable(SCRATCH, val, scratchOffset);
  var arguments_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
  scratchOffset += len;
  varyingSize += arguments_encoded.length;
  var buffer = Buffer.alloc(18 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(2621480, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.destination;
  void 0 === val && (val = void 0);
  buffer[offset] = destination_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += destination_len;
  val = fields.source;
  void 0 === val && (val = void 0);
  buffer[offset] = source_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += source_len;
  val = fields.routingKey;
  void 0 === val && (val = '');
  buffer[offset] = routingKey_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += routingKey_len;
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  bits = 0;
  offset += arguments_encoded.copy(buffer, offset);
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeExchangeUnbindOk(buffer) {
  return {};
}

function encodeExchangeUnbindOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(2621491, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueueDeclare(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      queue: void 0,
      passive: void 0,
      durable: void 0,
      exclusive: void 0,
      autoDelete: void 0,
      nowait: void 0,
      arguments: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.queue = val;
  val = !!(1 & buffer[offset]);
  fields.passive = val;
  val = !!(2 & buffer[offset]);
  fields.durable = val;
  val = !!(4 & buffer[offset]);
  fields.exclusive = val;
  val = !!(8 & buffer[offset]);
  fields.autoDelete = val;
  val = !!(16 & buffer[offset]);
  fields.nowait = val;
  offset++;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = decodeFields(buffer.subarray(offset, offset + len));
  offset += len;
  fields.arguments = val;
  return fields;
}

function encodeQueueDeclare(channel, fields) {
  var len,
    offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0,
    scratchOffset = 0;
  val = fields.queue;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'queue' is the wrong type; must be a string (up to 255 chars)");
  var queue_len = Buffer.byteLength(val, 'utf8');
  varyingSize += queue_len;
  val = fields.arguments;
  if (void 0 === val) val = {};
  else if ('object' != typeof val) throw new TypeError("Field 'arguments' is the wrong type; must be an object");
  len = encodeTable(SCRATCH, val, scratchOffset);
  var arguments_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
  scratchOffset += len;
  varyingSize += arguments_encoded.length;
  var buffer = Buffer.alloc(16 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276810, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.queue;
  void 0 === val && (val = '');
  buffer[offset] = queue_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += queue_len;
  val = fields.passive;
  void 0 === val && (val = !1);
  val && (bits += 1);
  val = fields.durable;
  void 0 === val && (val = !1);
  val && (bits += 2);
  val = fields.exclusive;
  void 0 === val && (val = !1);
  val && (bits += 4);
  val = fields.autoDelete;
  void 0 === val && (val = !1);
  val && (bits += 8);
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 16);
  buffer[offset] = bits;
  offset++;
  bits = 0;
  offset += arguments_encoded.copy(buffer, offset);
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueueDeclareOk(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      queue: void 0,
      messageCount: void 0,
      consumerCount: void 0,
    };
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.queue = val;
  val = buffer.readUInt32BE(offset);
  offset += 4;
  fields.messageCount = val;
  val = buffer.readUInt32BE(offset);
  offset += 4;
  fields.consumerCount = val;
  return fields;
}

function encodeQueueDeclareOk(channel, fields) {
  var offset = 0,
    val = null,
    varyingSize = 0;
  val = fields.queue;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'queue'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'queue' is the wrong type; must be a string (up to 255 chars)");
  var queue_len = Buffer.byteLength(val, 'utf8');
  varyingSize += queue_len;
  var buffer = Buffer.alloc(21 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276811, 7);
  offset = 11;
  val = fields.queue;
  void 0 === val && (val = void 0);
  buffer[offset] = queue_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += queue_len;
  val = fields.messageCount;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'messageCount'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'messageCount' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt32BE(val, offset);
  offset += 4;
  val = fields.consumerCount;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'consumerCount'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'consumerCount' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt32BE(val, offset);
  offset += 4;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueueBind(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      queue: void 0,
      exchange: void 0,
      routingKey: void 0,
      nowait: void 0,
      arguments: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.queue = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.exchange = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.routingKey = val;
  val = !!(1 & buffer[offset]);
  fields.nowait = val;
  offset++;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = decodeFields(buffer.subarray(offset, offset + len));
  offset += len;
  fields.arguments = val;
  return fields;
}

function encodeQueueBind(channel, fields) {
  var len,
    offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0,
    scratchOffset = 0;
  val = fields.queue;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'queue' is the wrong type; must be a string (up to 255 chars)");
  var queue_len = Buffer.byteLength(val, 'utf8');
  varyingSize += queue_len;
  val = fields.exchange;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'exchange'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'exchange' is the wrong type; must be a string (up to 255 chars)");
  var exchange_len = Buffer.byteLength(val, 'utf8');
  varyingSize += exchange_len;
  val = fields.routingKey;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'routingKey' is the wrong type; must be a string (up to 255 chars)");
  var routingKey_len = Buffer.byteLength(val, 'utf8');
  varyingSize += routingKey_len;
  val = fields.arguments;
  if (void 0 === val) val = {};
  else if ('object' != typeof val) throw new TypeError("Field 'arguments' is the wrong type; must be an object");
  len = encodeTable(SCRATCH, val, scratchOffset);
  var arguments_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
  scratchOffset += len;
  varyingSize += arguments_encoded.length;
  var buffer = Buffer.alloc(18 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276820, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.queue;
  void 0 === val && (val = '');
  buffer[offset] = queue_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += queue_len;
  val = fields.exchange;
  void 0 === val && (val = void 0);
  buffer[offset] = exchange_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += exchange_len;
  val = fields.routingKey;
  void 0 === val && (val = '');
  buffer[offset] = routingKey_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += routingKey_len;
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  bits = 0;
  offset += arguments_encoded.copy(buffer, offset);
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueueBindOk(buffer) {
  return {};
}

function encodeQueueBindOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276821, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueuePurge(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      queue: void 0,
      nowait: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.queue = val;
  val = !!(1 & buffer[offset]);
  fields.nowait = val;
  return fields;
}

function encodeQueuePurge(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.queue;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'queue' is the wrong type; must be a string (up to 255 chars)");
  var queue_len = Buffer.byteLength(val, 'utf8');
  varyingSize += queue_len;
  var buffer = Buffer.alloc(16 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276830, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.queue;
  void 0 === val && (val = '');
  buffer[offset] = queue_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += queue_len;
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueuePurgeOk(buffer) {
  var val,
    offset = 0,
    fields = {
      messageCount: void 0,
    };
  val = buffer.readUInt32BE(offset);
  offset += 4;
  fields.messageCount = val;
  return fields;
}

function encodeQueuePurgeOk(channel, fields) {
  var offset = 0,
    val = null,
    buffer = Buffer.alloc(16);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276831, 7);
  offset = 11;
  val = fields.messageCount;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'messageCount'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'messageCount' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt32BE(val, offset);
  offset += 4;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueueDelete(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      queue: void 0,
      ifUnused: void 0,
      ifEmpty: void 0,
      nowait: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.queue = val;
  val = !!(1 & buffer[offset]);
  fields.ifUnused = val;
  val = !!(2 & buffer[offset]);
  fields.ifEmpty = val;
  val = !!(4 & buffer[offset]);
  fields.nowait = val;
  return fields;
}

function encodeQueueDelete(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    varyingSize = 0;
  val = fields.queue;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'queue' is the wrong type; must be a string (up to 255 chars)");
  var queue_len = Buffer.byteLength(val, 'utf8');
  varyingSize += queue_len;
  var buffer = Buffer.alloc(16 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276840, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.queue;
  void 0 === val && (val = '');
  buffer[offset] = queue_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += queue_len;
  val = fields.ifUnused;
  void 0 === val && (val = !1);
  val && (bits += 1);
  val = fields.ifEmpty;
  void 0 === val && (val = !1);
  val && (bits += 2);
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 4);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueueDeleteOk(buffer) {
  var val,
    offset = 0,
    fields = {
      messageCount: void 0,
    };
  val = buffer.readUInt32BE(offset);
  offset += 4;
  fields.messageCount = val;
  return fields;
}

function encodeQueueDeleteOk(channel, fields) {
  var offset = 0,
    val = null,
    buffer = Buffer.alloc(16);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276841, 7);
  offset = 11;
  val = fields.messageCount;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'messageCount'");
  if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'messageCount' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt32BE(val, offset);
  offset += 4;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueueUnbind(buffer) {
  var val,
    len,
    offset = 0,
    fields = {
      ticket: void 0,
      queue: void 0,
      exchange: void 0,
      routingKey: void 0,
      arguments: void 0,
    };
  val = buffer.readUInt16BE(offset);
  offset += 2;
  fields.ticket = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.queue = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.exchange = val;
  len = buffer.readUInt8(offset);
  offset++;
  val = buffer.toString('utf8', offset, offset + len);
  offset += len;
  fields.routingKey = val;
  len = buffer.readUInt32BE(offset);
  offset += 4;
  val = decodeFields(buffer.subarray(offset, offset + len));
  offset += len;
  fields.arguments = val;
  return fields;
}

function encodeQueueUnbind(channel, fields) {
  var len,
    offset = 0,
    val = null,
    varyingSize = 0,
    scratchOffset = 0;
  val = fields.queue;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'queue' is the wrong type; must be a string (up to 255 chars)");
  var queue_len = Buffer.byteLength(val, 'utf8');
  varyingSize += queue_len;
  val = fields.exchange;
  if (void 0 === val) throw new Error("Missing value for mandatory field 'exchange'");
  if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'exchange' is the wrong type; must be a string (up to 255 chars)");
  var exchange_len = Buffer.byteLength(val, 'utf8');
  varyingSize += exchange_len;
  val = fields.routingKey;
  if (void 0 === val) val = '';
  else if (!('string' == typeof val && Buffer.byteLength(val) < 256))
    throw new TypeError("Field 'routingKey' is the wrong type; must be a string (up to 255 chars)");
  var routingKey_len = Buffer.byteLength(val, 'utf8');
  varyingSize += routingKey_len;
  val = fields.arguments;
  if (void 0 === val) val = {};
  else if ('object' != typeof val) throw new TypeError("Field 'arguments' is the wrong type; must be an object");
  len = encodeTable(SCRATCH, val, scratchOffset);
  var arguments_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
  scratchOffset += len;
  varyingSize += arguments_encoded.length;
  var buffer = Buffer.alloc(17 + varyingSize);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276850, 7);
  offset = 11;
  val = fields.ticket;
  if (void 0 === val) val = 0;
  else if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'ticket' is the wrong type; must be a number (but not NaN)");
  buffer.writeUInt16BE(val, offset);
  offset += 2;
  val = fields.queue;
  void 0 === val && (val = '');
  buffer[offset] = queue_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += queue_len;
  val = fields.exchange;
  void 0 === val && (val = void 0);
  buffer[offset] = exchange_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += exchange_len;
  val = fields.routingKey;
  void 0 === val && (val = '');
  buffer[offset] = routingKey_len;
  offset++;
  buffer.write(val, offset, 'utf8');
  offset += routingKey_len;
  offset += arguments_encoded.copy(buffer, offset);
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeQueueUnbindOk(buffer) {
  return {};
}

function encodeQueueUnbindOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3276851, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeTxSelect(buffer) {
  return {};
}

function encodeTxSelect(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(5898250, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeTxSelectOk(buffer) {
  return {};
}

function encodeTxSelectOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(5898251, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeTxCommit(buffer) {
  return {};
}

function encodeTxCommit(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(5898260, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeTxCommitOk(buffer) {
  return {};
}

function encodeTxCommitOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(5898261, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeTxRollback(buffer) {
  return {};
}

function encodeTxRollback(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(5898270, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeTxRollbackOk(buffer) {
  return {};
}

function encodeTxRollbackOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(5898271, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConfirmSelect(buffer) {
  var val,
    fields = {
      nowait: void 0,
    };
  val = !!(1 & buffer[0]);
  fields.nowait = val;
  return fields;
}

function encodeConfirmSelect(channel, fields) {
  var offset = 0,
    val = null,
    bits = 0,
    buffer = Buffer.alloc(13);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(5570570, 7);
  offset = 11;
  val = fields.nowait;
  void 0 === val && (val = !1);
  val && (bits += 1);
  buffer[offset] = bits;
  offset++;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function decodeConfirmSelectOk(buffer) {
  return {};
}

function encodeConfirmSelectOk(channel, fields) {
  var offset = 0,
    buffer = Buffer.alloc(12);
  buffer[0] = 1;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(5570571, 7);
  offset = 11;
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  return buffer;
}

function encodeBasicProperties(channel, size, fields) {
  var val,
    len,
    offset = 0,
    flags = 0,
    scratchOffset = 0,
    varyingSize = 0;
  val = fields.contentType;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'contentType' is the wrong type; must be a string (up to 255 chars)");
    var contentType_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += contentType_len;
  }
  val = fields.contentEncoding;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'contentEncoding' is the wrong type; must be a string (up to 255 chars)");
    var contentEncoding_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += contentEncoding_len;
  }
  val = fields.headers;
  if (void 0 != val) {
    if ('object' != typeof val) throw new TypeError("Field 'headers' is the wrong type; must be an object");
    len = encodeTable(SCRATCH, val, scratchOffset);
    var headers_encoded = SCRATCH.slice(scratchOffset, scratchOffset + len);
    scratchOffset += len;
    varyingSize += headers_encoded.length;
  }
  val = fields.deliveryMode;
  if (void 0 != val) {
    if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'deliveryMode' is the wrong type; must be a number (but not NaN)");
    varyingSize += 1;
  }
  val = fields.priority;
  if (void 0 != val) {
    if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'priority' is the wrong type; must be a number (but not NaN)");
    varyingSize += 1;
  }
  val = fields.correlationId;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'correlationId' is the wrong type; must be a string (up to 255 chars)");
    var correlationId_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += correlationId_len;
  }
  val = fields.replyTo;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'replyTo' is the wrong type; must be a string (up to 255 chars)");
    var replyTo_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += replyTo_len;
  }
  val = fields.expiration;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'expiration' is the wrong type; must be a string (up to 255 chars)");
    var expiration_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += expiration_len;
  }
  val = fields.messageId;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'messageId' is the wrong type; must be a string (up to 255 chars)");
    var messageId_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += messageId_len;
  }
  val = fields.timestamp;
  if (void 0 != val) {
    if ('number' != typeof val || isNaN(val)) throw new TypeError("Field 'timestamp' is the wrong type; must be a number (but not NaN)");
    varyingSize += 8;
  }
  val = fields.type;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'type' is the wrong type; must be a string (up to 255 chars)");
    var type_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += type_len;
  }
  val = fields.userId;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'userId' is the wrong type; must be a string (up to 255 chars)");
    var userId_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += userId_len;
  }
  val = fields.appId;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'appId' is the wrong type; must be a string (up to 255 chars)");
    var appId_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += appId_len;
  }
  val = fields.clusterId;
  if (void 0 != val) {
    if (!('string' == typeof val && Buffer.byteLength(val) < 256))
      throw new TypeError("Field 'clusterId' is the wrong type; must be a string (up to 255 chars)");
    var clusterId_len = Buffer.byteLength(val, 'utf8');
    varyingSize += 1;
    varyingSize += clusterId_len;
  }
  var buffer = Buffer.alloc(22 + varyingSize);
  buffer[0] = 2;
  buffer.writeUInt16BE(channel, 1);
  buffer.writeUInt32BE(3932160, 7);
  buffer.writeBigUInt64BE(BigInt(size), 11);
  flags = 0;
  offset = 21;
  val = fields.contentType;
  if (void 0 != val) {
    flags += 32768;
    buffer[offset] = contentType_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += contentType_len;
  }
  val = fields.contentEncoding;
  if (void 0 != val) {
    flags += 16384;
    buffer[offset] = contentEncoding_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += contentEncoding_len;
  }
  val = fields.headers;
  if (void 0 != val) {
    flags += 8192;
    offset += headers_encoded.copy(buffer, offset);
  }
  val = fields.deliveryMode;
  if (void 0 != val) {
    flags += 4096;
    buffer.writeUInt8(val, offset);
    offset++;
  }
  val = fields.priority;
  if (void 0 != val) {
    flags += 2048;
    buffer.writeUInt8(val, offset);
    offset++;
  }
  val = fields.correlationId;
  if (void 0 != val) {
    flags += 1024;
    buffer[offset] = correlationId_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += correlationId_len;
  }
  val = fields.replyTo;
  if (void 0 != val) {
    flags += 512;
    buffer[offset] = replyTo_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += replyTo_len;
  }
  val = fields.expiration;
  if (void 0 != val) {
    flags += 256;
    buffer[offset] = expiration_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += expiration_len;
  }
  val = fields.messageId;
  if (void 0 != val) {
    flags += 128;
    buffer[offset] = messageId_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += messageId_len;
  }
  val = fields.timestamp;
  if (void 0 != val) {
    flags += 64;
    buffer.writeBigUInt64BE(BigInt(val), offset);
    offset += 8;
  }
  val = fields.type;
  if (void 0 != val) {
    flags += 32;
    buffer[offset] = type_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += type_len;
  }
  val = fields.userId;
  if (void 0 != val) {
    flags += 16;
    buffer[offset] = userId_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += userId_len;
  }
  val = fields.appId;
  if (void 0 != val) {
    flags += 8;
    buffer[offset] = appId_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += appId_len;
  }
  val = fields.clusterId;
  if (void 0 != val) {
    flags += 4;
    buffer[offset] = clusterId_len;
    offset++;
    buffer.write(val, offset, 'utf8');
    offset += clusterId_len;
  }
  buffer[offset] = 206;
  buffer.writeUInt32BE(offset - 7, 3);
  buffer.writeUInt16BE(flags, 19);
  return buffer.subarray(0, offset + 1);
}

function decodeBasicProperties(buffer) {
  var flags,
    val,
    len,
    offset = 2;
  flags = buffer.readUInt16BE(0);
  if (0 === flags) return {};
  var fields = {
    contentType: void 0,
    contentEncoding: void 0,
    headers: void 0,
    deliveryMode: void 0,
    priority: void 0,
    correlationId: void 0,
    replyTo: void 0,
    expiration: void 0,
    messageId: void 0,
    timestamp: void 0,
    type: void 0,
    userId: void 0,
    appId: void 0,
    clusterId: void 0,
  };
  if (32768 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.contentType = val;
  }
  if (16384 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.contentEncoding = val;
  }
  if (8192 & flags) {
    len = buffer.readUInt32BE(offset);
    offset += 4;
    val = decodeFields(buffer.subarray(offset, offset + len));
    offset += len;
    fields.headers = val;
  }
  if (4096 & flags) {
    val = buffer[offset];
    offset++;
    fields.deliveryMode = val;
  }
  if (2048 & flags) {
    val = buffer[offset];
    offset++;
    fields.priority = val;
  }
  if (1024 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.correlationId = val;
  }
  if (512 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.replyTo = val;
  }
  if (256 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.expiration = val;
  }
  if (128 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.messageId = val;
  }
  if (64 & flags) {
    val = Number(buffer.readBigUInt64BE(offset));
    offset += 8;
    fields.timestamp = val;
  }
  if (32 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.type = val;
  }
  if (16 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.userId = val;
  }
  if (8 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.appId = val;
  }
  if (4 & flags) {
    len = buffer.readUInt8(offset);
    offset++;
    val = buffer.toString('utf8', offset, offset + len);
    offset += len;
    fields.clusterId = val;
  }
  return fields;
}

var codec = __webpack_require__(66820),
  encodeTable = codec.encodeTable,
  decodeFields = codec.decodeFields,
  SCRATCH = Buffer.alloc(65536),
  EMPTY_OBJECT = Object.freeze({});

module.exports.constants = {
  FRAME_METHOD: 1,
  FRAME_HEADER: 2,
  FRAME_BODY: 3,
  FRAME_HEARTBEAT: 8,
  FRAME_MIN_SIZE: 4096,
  FRAME_END: 206,
  REPLY_SUCCESS: 200,
  CONTENT_TOO_LARGE: 311,
  NO_ROUTE: 312,
  NO_CONSUMERS: 313,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  CONNECTION_FORCED: 320,
  INVALID_PATH: 402,
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  UNEXPECTED_FRAME: 505,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
  NOT_IMPLEMENTED: 540,
  INTERNAL_ERROR: 541,
};

module.exports.constant_strs = {
  1: 'FRAME-METHOD',
  2: 'FRAME-HEADER',
  3: 'FRAME-BODY',
  8: 'FRAME-HEARTBEAT',
  200: 'REPLY-SUCCESS',
  206: 'FRAME-END',
  311: 'CONTENT-TOO-LARGE',
  312: 'NO-ROUTE',
  313: 'NO-CONSUMERS',
  320: 'CONNECTION-FORCED',
  402: 'INVALID-PATH',
  403: 'ACCESS-REFUSED',
  404: 'NOT-FOUND',
  405: 'RESOURCE-LOCKED',
  406: 'PRECONDITION-FAILED',
  501: 'FRAME-ERROR',
  502: 'SYNTAX-ERROR',
  503: 'COMMAND-INVALID',
  504: 'CHANNEL-ERROR',
  505: 'UNEXPECTED-FRAME',
  506: 'RESOURCE-ERROR',
  530: 'NOT-ALLOWED',
  540: 'NOT-IMPLEMENTED',
  541: 'INTERNAL-ERROR',
  4096: 'FRAME-MIN-SIZE',
};

module.exports.FRAME_OVERHEAD = 8;

module.exports.decode = function (id, buf) {
  switch (id) {
    case 3932170:
      return decodeBasicQos(buf);

    case 3932171:
      return decodeBasicQosOk(buf);

    case 3932180:
      return decodeBasicConsume(buf);

    case 3932181:
      return decodeBasicConsumeOk(buf);

    case 3932190:
      return decodeBasicCancel(buf);

    case 3932191:
      return decodeBasicCancelOk(buf);

    case 3932200:
      return decodeBasicPublish(buf);

    case 3932210:
      return decodeBasicReturn(buf);

    case 3932220:
      return decodeBasicDeliver(buf);

    case 3932230:
      return decodeBasicGet(buf);

    case 3932231:
      return decodeBasicGetOk(buf);

    case 3932232:
      return decodeBasicGetEmpty(buf);

    case 3932240:
      return decodeBasicAck(buf);

    case 3932250:
      return decodeBasicReject(buf);

    case 3932260:
      return decodeBasicRecoverAsync(buf);

    case 3932270:
      return decodeBasicRecover(buf);

    case 3932271:
      return decodeBasicRecoverOk(buf);

    case 3932280:
      return decodeBasicNack(buf);

    case 655370:
      return decodeConnectionStart(buf);

    case 655371:
      return decodeConnectionStartOk(buf);

    case 655380:
      return decodeConnectionSecure(buf);

    case 655381:
      return decodeConnectionSecureOk(buf);

    case 655390:
      return decodeConnectionTune(buf);

    case 655391:
      return decodeConnectionTuneOk(buf);

    case 655400:
      return decodeConnectionOpen(buf);

    case 655401:
      return decodeConnectionOpenOk(buf);

    case 655410:
      return decodeConnectionClose(buf);

    case 655411:
      return decodeConnectionCloseOk(buf);

    case 655420:
      return decodeConnectionBlocked(buf);

    case 655421:
      return decodeConnectionUnblocked(buf);

    case 655430:
      return decodeConnectionUpdateSecret(buf);

    case 655431:
      return decodeConnectionUpdateSecretOk(buf);

    case 1310730:
      return decodeChannelOpen(buf);

    case 1310731:
      return decodeChannelOpenOk(buf);

    case 1310740:
      return decodeChannelFlow(buf);

    case 1310741:
      return decodeChannelFlowOk(buf);

    case 1310760:
      return decodeChannelClose(buf);

    case 1310761:
      return decodeChannelCloseOk(buf);

    case 1966090:
      return decodeAccessRequest(buf);

    case 1966091:
      return decodeAccessRequestOk(buf);

    case 2621450:
      return decodeExchangeDeclare(buf);

    case 2621451:
      return decodeExchangeDeclareOk(buf);

    case 2621460:
      return decodeExchangeDelete(buf);

    case 2621461:
      return decodeExchangeDeleteOk(buf);

    case 2621470:
      return decodeExchangeBind(buf);

    case 2621471:
      return decodeExchangeBindOk(buf);

    case 2621480:
      return decodeExchangeUnbind(buf);

    case 2621491:
      return decodeExchangeUnbindOk(buf);

    case 3276810:
      return decodeQueueDeclare(buf);

    case 3276811:
      return decodeQueueDeclareOk(buf);

    case 3276820:
      return decodeQueueBind(buf);

    case 3276821:
      return decodeQueueBindOk(buf);

    case 3276830:
      return decodeQueuePurge(buf);

    case 3276831:
      return decodeQueuePurgeOk(buf);

    case 3276840:
      return decodeQueueDelete(buf);

    case 3276841:
      return decodeQueueDeleteOk(buf);

    case 3276850:
      return decodeQueueUnbind(buf);

    case 3276851:
      return decodeQueueUnbindOk(buf);

    case 5898250:
      return decodeTxSelect(buf);

    case 5898251:
      return decodeTxSelectOk(buf);

    case 5898260:
      return decodeTxCommit(buf);

    case 5898261:
      return decodeTxCommitOk(buf);

    case 5898270:
      return decodeTxRollback(buf);

    case 5898271:
      return decodeTxRollbackOk(buf);

    case 5570570:
      return decodeConfirmSelect(buf);

    case 5570571:
      return decodeConfirmSelectOk(buf);

    case 60:
      return decodeBasicProperties(buf);

    default:
      throw new Error('Unknown class/method ID');
  }
};

module.exports.encodeMethod = function (id, channel, fields) {
  switch (id) {
    case 3932170:
      return encodeBasicQos(channel, fields);

    case 3932171:
      return encodeBasicQosOk(channel, fields);

    case 3932180:
      return encodeBasicConsume(channel, fields);

    case 3932181:
      return encodeBasicConsumeOk(channel, fields);

    case 3932190:
      return encodeBasicCancel(channel, fields);

    case 3932191:
      return encodeBasicCancelOk(channel, fields);

    case 3932200:
      return encodeBasicPublish(channel, fields);

    case 3932210:
      return encodeBasicReturn(channel, fields);

    case 3932220:
      return encodeBasicDeliver(channel, fields);

    case 3932230:
      return encodeBasicGet(channel, fields);

    case 3932231:
      return encodeBasicGetOk(channel, fields);

    case 3932232:
      return encodeBasicGetEmpty(channel, fields);

    case 3932240:
      return encodeBasicAck(channel, fields);

    case 3932250:
      return encodeBasicReject(channel, fields);

    case 3932260:
      return encodeBasicRecoverAsync(channel, fields);

    case 3932270:
      return encodeBasicRecover(channel, fields);

    case 3932271:
      return encodeBasicRecoverOk(channel, fields);

    case 3932280:
      return encodeBasicNack(channel, fields);

    case 655370:
      return encodeConnectionStart(channel, fields);

    case 655371:
      return encodeConnectionStartOk(channel, fields);

    case 655380:
      return encodeConnectionSecure(channel, fields);

    case 655381:
      return encodeConnectionSecureOk(channel, fields);

    case 655390:
      return encodeConnectionTune(channel, fields);

    case 655391:
      return encodeConnectionTuneOk(channel, fields);

    case 655400:
      return encodeConnectionOpen(channel, fields);

    case 655401:
      return encodeConnectionOpenOk(channel, fields);

    case 655410:
      return encodeConnectionClose(channel, fields);

    case 655411:
      return encodeConnectionCloseOk(channel, fields);

    case 655420:
      return encodeConnectionBlocked(channel, fields);

    case 655421:
      return encodeConnectionUnblocked(channel, fields);

    case 655430:
      return encodeConnectionUpdateSecret(channel, fields);

    case 655431:
      return encodeConnectionUpdateSecretOk(channel, fields);

    case 1310730:
      return encodeChannelOpen(channel, fields);

    case 1310731:
      return encodeChannelOpenOk(channel, fields);

    case 1310740:
      return encodeChannelFlow(channel, fields);

    case 1310741:
      return encodeChannelFlowOk(channel, fields);

    case 1310760:
      return encodeChannelClose(channel, fields);

    case 1310761:
      return encodeChannelCloseOk(channel, fields);

    case 1966090:
      return encodeAccessRequest(channel, fields);

    case 1966091:
      return encodeAccessRequestOk(channel, fields);

    case 2621450:
      return encodeExchangeDeclare(channel, fields);

    case 2621451:
      return encodeExchangeDeclareOk(channel, fields);

    case 2621460:
      return encodeExchangeDelete(channel, fields);

    case 2621461:
      return encodeExchangeDeleteOk(channel, fields);

    case 2621470:
      return encodeExchangeBind(channel, fields);

    case 2621471:
      return encodeExchangeBindOk(channel, fields);

    case 2621480:
      return encodeExchangeUnbind(channel, fields);

    case 2621491:
      return encodeExchangeUnbindOk(channel, fields);

    case 3276810:
      return encodeQueueDeclare(channel, fields);

    case 3276811:
      return encodeQueueDeclareOk(channel, fields);

    case 3276820:
      return encodeQueueBind(channel, fields);

    case 3276821:
      return encodeQueueBindOk(channel, fields);

    case 3276830:
      return encodeQueuePurge(channel, fields);

    case 3276831:
      return encodeQueuePurgeOk(channel, fields);

    case 3276840:
      return encodeQueueDelete(channel, fields);

    case 3276841:
      return encodeQueueDeleteOk(channel, fields);

    case 3276850:
      return encodeQueueUnbind(channel, fields);

    case 3276851:
      return encodeQueueUnbindOk(channel, fields);

    case 5898250:
      return encodeTxSelect(channel, fields);

    case 5898251:
      return encodeTxSelectOk(channel, fields);

    case 5898260:
      return encodeTxCommit(channel, fields);

    case 5898261:
      return encodeTxCommitOk(channel, fields);

    case 5898270:
      return encodeTxRollback(channel, fields);

    case 5898271:
      return encodeTxRollbackOk(channel, fields);

    case 5570570:
      return encodeConfirmSelect(channel, fields);

    case 5570571:
      return encodeConfirmSelectOk(channel, fields);

    default:
      throw new Error('Unknown class/method ID');
  }
};

module.exports.encodeProperties = function (id, channel, size, fields) {
  switch (id) {
    case 60:
      return encodeBasicProperties(channel, size, fields);

    default:
      throw new Error('Unknown class/properties ID');
  }
};

module.exports.info = function (id) {
  switch (id) {
    case 3932170:
      return methodInfoBasicQos;

    case 3932171:
      return methodInfoBasicQosOk;

    case 3932180:
      return methodInfoBasicConsume;

    case 3932181:
      return methodInfoBasicConsumeOk;

    case 3932190:
      return methodInfoBasicCancel;

    case 3932191:
      return methodInfoBasicCancelOk;

    case 3932200:
      return methodInfoBasicPublish;

    case 3932210:
      return methodInfoBasicReturn;

    case 3932220:
      return methodInfoBasicDeliver;

    case 3932230:
      return methodInfoBasicGet;

    case 3932231:
      return methodInfoBasicGetOk;

    case 3932232:
      return methodInfoBasicGetEmpty;

    case 3932240:
      return methodInfoBasicAck;

    case 3932250:
      return methodInfoBasicReject;

    case 3932260:
      return methodInfoBasicRecoverAsync;

    case 3932270:
      return methodInfoBasicRecover;

    case 3932271:
      return methodInfoBasicRecoverOk;

    case 3932280:
      return methodInfoBasicNack;

    case 655370:
      return methodInfoConnectionStart;

    case 655371:
      return methodInfoConnectionStartOk;

    case 655380:
      return methodInfoConnectionSecure;

    case 655381:
      return methodInfoConnectionSecureOk;

    case 655390:
      return methodInfoConnectionTune;

    case 655391:
      return methodInfoConnectionTuneOk;

    case 655400:
      return methodInfoConnectionOpen;

    case 655401:
      return methodInfoConnectionOpenOk;

    case 655410:
      return methodInfoConnectionClose;

    case 655411:
      return methodInfoConnectionCloseOk;

    case 655420:
      return methodInfoConnectionBlocked;

    case 655421:
      return methodInfoConnectionUnblocked;

    case 655430:
      return methodInfoConnectionUpdateSecret;

    case 655431:
      return methodInfoConnectionUpdateSecretOk;

    case 1310730:
      return methodInfoChannelOpen;

    case 1310731:
      return methodInfoChannelOpenOk;

    case 1310740:
      return methodInfoChannelFlow;

    case 1310741:
      return methodInfoChannelFlowOk;

    case 1310760:
      return methodInfoChannelClose;

    case 1310761:
      return methodInfoChannelCloseOk;

    case 1966090:
      return methodInfoAccessRequest;

    case 1966091:
      return methodInfoAccessRequestOk;

    case 2621450:
      return methodInfoExchangeDeclare;

    case 2621451:
      return methodInfoExchangeDeclareOk;

    case 2621460:
      return methodInfoExchangeDelete;

    case 2621461:
      return methodInfoExchangeDeleteOk;

    case 2621470:
      return methodInfoExchangeBind;

    case 2621471:
      return methodInfoExchangeBindOk;

    case 2621480:
      return methodInfoExchangeUnbind;

    case 2621491:
      return methodInfoExchangeUnbindOk;

    case 3276810:
      return methodInfoQueueDeclare;

    case 3276811:
      return methodInfoQueueDeclareOk;

    case 3276820:
      return methodInfoQueueBind;

    case 3276821:
      return methodInfoQueueBindOk;

    case 3276830:
      return methodInfoQueuePurge;

    case 3276831:
      return methodInfoQueuePurgeOk;

    case 3276840:
      return methodInfoQueueDelete;

    case 3276841:
      return methodInfoQueueDeleteOk;

    case 3276850:
      return methodInfoQueueUnbind;

    case 3276851:
      return methodInfoQueueUnbindOk;

    case 5898250:
      return methodInfoTxSelect;

    case 5898251:
      return methodInfoTxSelectOk;

    case 5898260:
      return methodInfoTxCommit;

    case 5898261:
      return methodInfoTxCommitOk;

    case 5898270:
      return methodInfoTxRollback;

    case 5898271:
      return methodInfoTxRollbackOk;

    case 5570570:
      return methodInfoConfirmSelect;

    case 5570571:
      return methodInfoConfirmSelectOk;

    case 60:
      return propertiesInfoBasicProperties;

    default:
      throw new Error('Unknown class/method ID');
  }
};

module.exports.BasicQos = 3932170;

var methodInfoBasicQos = (module.exports.methodInfoBasicQos = {
  id: 3932170,
  classId: 60,
  methodId: 10,
  name: 'BasicQos',
  args: [
    {
      type: 'long',
      name: 'prefetchSize',
      default: 0,
    },
    {
      type: 'short',
      name: 'prefetchCount',
      default: 0,
    },
    {
      type: 'bit',
      name: 'global',
      default: !1,
    },
  ],
});

module.exports.BasicQosOk = 3932171;

var methodInfoBasicQosOk = (module.exports.methodInfoBasicQosOk = {
  id: 3932171,
  classId: 60,
  methodId: 11,
  name: 'BasicQosOk',
  args: [],
});

module.exports.BasicConsume = 3932180;

var methodInfoBasicConsume = (module.exports.methodInfoBasicConsume = {
  id: 3932180,
  classId: 60,
  methodId: 20,
  name: 'BasicConsume',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'queue',
      default: '',
    },
    {
      type: 'shortstr',
      name: 'consumerTag',
      default: '',
    },
    {
      type: 'bit',
      name: 'noLocal',
      default: !1,
    },
    {
      type: 'bit',
      name: 'noAck',
      default: !1,
    },
    {
      type: 'bit',
      name: 'exclusive',
      default: !1,
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
    {
      type: 'table',
      name: 'arguments',
      default: {},
    },
  ],
});

module.exports.BasicConsumeOk = 3932181;

var methodInfoBasicConsumeOk = (module.exports.methodInfoBasicConsumeOk = {
  id: 3932181,
  classId: 60,
  methodId: 21,
  name: 'BasicConsumeOk',
  args: [
    {
      type: 'shortstr',
      name: 'consumerTag',
    },
  ],
});

module.exports.BasicCancel = 3932190;

var methodInfoBasicCancel = (module.exports.methodInfoBasicCancel = {
  id: 3932190,
  classId: 60,
  methodId: 30,
  name: 'BasicCancel',
  args: [
    {
      type: 'shortstr',
      name: 'consumerTag',
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
  ],
});

module.exports.BasicCancelOk = 3932191;

var methodInfoBasicCancelOk = (module.exports.methodInfoBasicCancelOk = {
  id: 3932191,
  classId: 60,
  methodId: 31,
  name: 'BasicCancelOk',
  args: [
    {
      type: 'shortstr',
      name: 'consumerTag',
    },
  ],
});

module.exports.BasicPublish = 3932200;

var methodInfoBasicPublish = (module.exports.methodInfoBasicPublish = {
  id: 3932200,
  classId: 60,
  methodId: 40,
  name: 'BasicPublish',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'exchange',
      default: '',
    },
    {
      type: 'shortstr',
      name: 'routingKey',
      default: '',
    },
    {
      type: 'bit',
      name: 'mandatory',
      default: !1,
    },
    {
      type: 'bit',
      name: 'immediate',
      default: !1,
    },
  ],
});

module.exports.BasicReturn = 3932210;

var methodInfoBasicReturn = (module.exports.methodInfoBasicReturn = {
  id: 3932210,
  classId: 60,
  methodId: 50,
  name: 'BasicReturn',
  args: [
    {
      type: 'short',
      name: 'replyCode',
    },
    {
      type: 'shortstr',
      name: 'replyText',
      default: '',
    },
    {
      type: 'shortstr',
      name: 'exchange',
    },
    {
      type: 'shortstr',
      name: 'routingKey',
    },
  ],
});

module.exports.BasicDeliver = 3932220;

var methodInfoBasicDeliver = (module.exports.methodInfoBasicDeliver = {
  id: 3932220,
  classId: 60,
  methodId: 60,
  name: 'BasicDeliver',
  args: [
    {
      type: 'shortstr',
      name: 'consumerTag',
    },
    {
      type: 'longlong',
      name: 'deliveryTag',
    },
    {
      type: 'bit',
      name: 'redelivered',
      default: !1,
    },
    {
      type: 'shortstr',
      name: 'exchange',
    },
    {
      type: 'shortstr',
      name: 'routingKey',
    },
  ],
});

module.exports.BasicGet = 3932230;

var methodInfoBasicGet = (module.exports.methodInfoBasicGet = {
  id: 3932230,
  classId: 60,
  methodId: 70,
  name: 'BasicGet',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'queue',
      default: '',
    },
    {
      type: 'bit',
      name: 'noAck',
      default: !1,
    },
  ],
});

module.exports.BasicGetOk = 3932231;

var methodInfoBasicGetOk = (module.exports.methodInfoBasicGetOk = {
  id: 3932231,
  classId: 60,
  methodId: 71,
  name: 'BasicGetOk',
  args: [
    {
      type: 'longlong',
      name: 'deliveryTag',
    },
    {
      type: 'bit',
      name: 'redelivered',
      default: !1,
    },
    {
      type: 'shortstr',
      name: 'exchange',
    },
    {
      type: 'shortstr',
      name: 'routingKey',
    },
    {
      type: 'long',
      name: 'messageCount',
    },
  ],
});

module.exports.BasicGetEmpty = 3932232;

var methodInfoBasicGetEmpty = (module.exports.methodInfoBasicGetEmpty = {
  id: 3932232,
  classId: 60,
  methodId: 72,
  name: 'BasicGetEmpty',
  args: [
    {
      type: 'shortstr',
      name: 'clusterId',
      default: '',
    },
  ],
});

module.exports.BasicAck = 3932240;

var methodInfoBasicAck = (module.exports.methodInfoBasicAck = {
  id: 3932240,
  classId: 60,
  methodId: 80,
  name: 'BasicAck',
  args: [
    {
      type: 'longlong',
      name: 'deliveryTag',
      default: 0,
    },
    {
      type: 'bit',
      name: 'multiple',
      default: !1,
    },
  ],
});

module.exports.BasicReject = 3932250;

var methodInfoBasicReject = (module.exports.methodInfoBasicReject = {
  id: 3932250,
  classId: 60,
  methodId: 90,
  name: 'BasicReject',
  args: [
    {
      type: 'longlong',
      name: 'deliveryTag',
    },
    {
      type: 'bit',
      name: 'requeue',
      default: !0,
    },
  ],
});

module.exports.BasicRecoverAsync = 3932260;

var methodInfoBasicRecoverAsync = (module.exports.methodInfoBasicRecoverAsync = {
  id: 3932260,
  classId: 60,
  methodId: 100,
  name: 'BasicRecoverAsync',
  args: [
    {
      type: 'bit',
      name: 'requeue',
      default: !1,
    },
  ],
});

module.exports.BasicRecover = 3932270;

var methodInfoBasicRecover = (module.exports.methodInfoBasicRecover = {
  id: 3932270,
  classId: 60,
  methodId: 110,
  name: 'BasicRecover',
  args: [
    {
      type: 'bit',
      name: 'requeue',
      default: !1,
    },
  ],
});

module.exports.BasicRecoverOk = 3932271;

var methodInfoBasicRecoverOk = (module.exports.methodInfoBasicRecoverOk = {
  id: 3932271,
  classId: 60,
  methodId: 111,
  name: 'BasicRecoverOk',
  args: [],
});

module.exports.BasicNack = 3932280;

var methodInfoBasicNack = (module.exports.methodInfoBasicNack = {
  id: 3932280,
  classId: 60,
  methodId: 120,
  name: 'BasicNack',
  args: [
    {
      type: 'longlong',
      name: 'deliveryTag',
      default: 0,
    },
    {
      type: 'bit',
      name: 'multiple',
      default: !1,
    },
    {
      type: 'bit',
      name: 'requeue',
      default: !0,
    },
  ],
});

module.exports.ConnectionStart = 655370;

var methodInfoConnectionStart = (module.exports.methodInfoConnectionStart = {
  id: 655370,
  classId: 10,
  methodId: 10,
  name: 'ConnectionStart',
  args: [
    {
      type: 'octet',
      name: 'versionMajor',
      default: 0,
    },
    {
      type: 'octet',
      name: 'versionMinor',
      default: 9,
    },
    {
      type: 'table',
      name: 'serverProperties',
    },
    {
      type: 'longstr',
      name: 'mechanisms',
      default: 'PLAIN',
    },
    {
      type: 'longstr',
      name: 'locales',
      default: 'en_US',
    },
  ],
});

module.exports.ConnectionStartOk = 655371;

var methodInfoConnectionStartOk = (module.exports.methodInfoConnectionStartOk = {
  id: 655371,
  classId: 10,
  methodId: 11,
  name: 'ConnectionStartOk',
  args: [
    {
      type: 'table',
      name: 'clientProperties',
    },
    {
      type: 'shortstr',
      name: 'mechanism',
      default: 'PLAIN',
    },
    {
      type: 'longstr',
      name: 'response',
    },
    {
      type: 'shortstr',
      name: 'locale',
      default: 'en_US',
    },
  ],
});

module.exports.ConnectionSecure = 655380;

var methodInfoConnectionSecure = (module.exports.methodInfoConnectionSecure = {
  id: 655380,
  classId: 10,
  methodId: 20,
  name: 'ConnectionSecure',
  args: [
    {
      type: 'longstr',
      name: 'challenge',
    },
  ],
});

module.exports.ConnectionSecureOk = 655381;

var methodInfoConnectionSecureOk = (module.exports.methodInfoConnectionSecureOk = {
  id: 655381,
  classId: 10,
  methodId: 21,
  name: 'ConnectionSecureOk',
  args: [
    {
      type: 'longstr',
      name: 'response',
    },
  ],
});

module.exports.ConnectionTune = 655390;

var methodInfoConnectionTune = (module.exports.methodInfoConnectionTune = {
  id: 655390,
  classId: 10,
  methodId: 30,
  name: 'ConnectionTune',
  args: [
    {
      type: 'short',
      name: 'channelMax',
      default: 0,
    },
    {
      type: 'long',
      name: 'frameMax',
      default: 0,
    },
    {
      type: 'short',
      name: 'heartbeat',
      default: 0,
    },
  ],
});

module.exports.ConnectionTuneOk = 655391;

var methodInfoConnectionTuneOk = (module.exports.methodInfoConnectionTuneOk = {
  id: 655391,
  classId: 10,
  methodId: 31,
  name: 'ConnectionTuneOk',
  args: [
    {
      type: 'short',
      name: 'channelMax',
      default: 0,
    },
    {
      type: 'long',
      name: 'frameMax',
      default: 0,
    },
    {
      type: 'short',
      name: 'heartbeat',
      default: 0,
    },
  ],
});

module.exports.ConnectionOpen = 655400;

var methodInfoConnectionOpen = (module.exports.methodInfoConnectionOpen = {
  id: 655400,
  classId: 10,
  methodId: 40,
  name: 'ConnectionOpen',
  args: [
    {
      type: 'shortstr',
      name: 'virtualHost',
      default: '/',
    },
    {
      type: 'shortstr',
      name: 'capabilities',
      default: '',
    },
    {
      type: 'bit',
      name: 'insist',
      default: !1,
    },
  ],
});

module.exports.ConnectionOpenOk = 655401;

var methodInfoConnectionOpenOk = (module.exports.methodInfoConnectionOpenOk = {
  id: 655401,
  classId: 10,
  methodId: 41,
  name: 'ConnectionOpenOk',
  args: [
    {
      type: 'shortstr',
      name: 'knownHosts',
      default: '',
    },
  ],
});

module.exports.ConnectionClose = 655410;

var methodInfoConnectionClose = (module.exports.methodInfoConnectionClose = {
  id: 655410,
  classId: 10,
  methodId: 50,
  name: 'ConnectionClose',
  args: [
    {
      type: 'short',
      name: 'replyCode',
    },
    {
      type: 'shortstr',
      name: 'replyText',
      default: '',
    },
    {
      type: 'short',
      name: 'classId',
    },
    {
      type: 'short',
      name: 'methodId',
    },
  ],
});

module.exports.ConnectionCloseOk = 655411;

var methodInfoConnectionCloseOk = (module.exports.methodInfoConnectionCloseOk = {
  id: 655411,
  classId: 10,
  methodId: 51,
  name: 'ConnectionCloseOk',
  args: [],
});

module.exports.ConnectionBlocked = 655420;

var methodInfoConnectionBlocked = (module.exports.methodInfoConnectionBlocked = {
  id: 655420,
  classId: 10,
  methodId: 60,
  name: 'ConnectionBlocked',
  args: [
    {
      type: 'shortstr',
      name: 'reason',
      default: '',
    },
  ],
});

module.exports.ConnectionUnblocked = 655421;

var methodInfoConnectionUnblocked = (module.exports.methodInfoConnectionUnblocked = {
  id: 655421,
  classId: 10,
  methodId: 61,
  name: 'ConnectionUnblocked',
  args: [],
});

module.exports.ConnectionUpdateSecret = 655430;

var methodInfoConnectionUpdateSecret = (module.exports.methodInfoConnectionUpdateSecret = {
  id: 655430,
  classId: 10,
  methodId: 70,
  name: 'ConnectionUpdateSecret',
  args: [
    {
      type: 'longstr',
      name: 'newSecret',
    },
    {
      type: 'shortstr',
      name: 'reason',
    },
  ],
});

module.exports.ConnectionUpdateSecretOk = 655431;

var methodInfoConnectionUpdateSecretOk = (module.exports.methodInfoConnectionUpdateSecretOk = {
  id: 655431,
  classId: 10,
  methodId: 71,
  name: 'ConnectionUpdateSecretOk',
  args: [],
});

module.exports.ChannelOpen = 1310730;

var methodInfoChannelOpen = (module.exports.methodInfoChannelOpen = {
  id: 1310730,
  classId: 20,
  methodId: 10,
  name: 'ChannelOpen',
  args: [
    {
      type: 'shortstr',
      name: 'outOfBand',
      default: '',
    },
  ],
});

module.exports.ChannelOpenOk = 1310731;

var methodInfoChannelOpenOk = (module.exports.methodInfoChannelOpenOk = {
  id: 1310731,
  classId: 20,
  methodId: 11,
  name: 'ChannelOpenOk',
  args: [
    {
      type: 'longstr',
      name: 'channelId',
      default: '',
    },
  ],
});

module.exports.ChannelFlow = 1310740;

var methodInfoChannelFlow = (module.exports.methodInfoChannelFlow = {
  id: 1310740,
  classId: 20,
  methodId: 20,
  name: 'ChannelFlow',
  args: [
    {
      type: 'bit',
      name: 'active',
    },
  ],
});

module.exports.ChannelFlowOk = 1310741;

var methodInfoChannelFlowOk = (module.exports.methodInfoChannelFlowOk = {
  id: 1310741,
  classId: 20,
  methodId: 21,
  name: 'ChannelFlowOk',
  args: [
    {
      type: 'bit',
      name: 'active',
    },
  ],
});

module.exports.ChannelClose = 1310760;

var methodInfoChannelClose = (module.exports.methodInfoChannelClose = {
  id: 1310760,
  classId: 20,
  methodId: 40,
  name: 'ChannelClose',
  args: [
    {
      type: 'short',
      name: 'replyCode',
    },
    {
      type: 'shortstr',
      name: 'replyText',
      default: '',
    },
    {
      type: 'short',
      name: 'classId',
    },
    {
      type: 'short',
      name: 'methodId',
    },
  ],
});

module.exports.ChannelCloseOk = 1310761;

var methodInfoChannelCloseOk = (module.exports.methodInfoChannelCloseOk = {
  id: 1310761,
  classId: 20,
  methodId: 41,
  name: 'ChannelCloseOk',
  args: [],
});

module.exports.AccessRequest = 1966090;

var methodInfoAccessRequest = (module.exports.methodInfoAccessRequest = {
  id: 1966090,
  classId: 30,
  methodId: 10,
  name: 'AccessRequest',
  args: [
    {
      type: 'shortstr',
      name: 'realm',
      default: '/data',
    },
    {
      type: 'bit',
      name: 'exclusive',
      default: !1,
    },
    {
      type: 'bit',
      name: 'passive',
      default: !0,
    },
    {
      type: 'bit',
      name: 'active',
      default: !0,
    },
    {
      type: 'bit',
      name: 'write',
      default: !0,
    },
    {
      type: 'bit',
      name: 'read',
      default: !0,
    },
  ],
});

module.exports.AccessRequestOk = 1966091;

var methodInfoAccessRequestOk = (module.exports.methodInfoAccessRequestOk = {
  id: 1966091,
  classId: 30,
  methodId: 11,
  name: 'AccessRequestOk',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 1,
    },
  ],
});

module.exports.ExchangeDeclare = 2621450;

var methodInfoExchangeDeclare = (module.exports.methodInfoExchangeDeclare = {
  id: 2621450,
  classId: 40,
  methodId: 10,
  name: 'ExchangeDeclare',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'exchange',
    },
    {
      type: 'shortstr',
      name: 'type',
      default: 'direct',
    },
    {
      type: 'bit',
      name: 'passive',
      default: !1,
    },
    {
      type: 'bit',
      name: 'durable',
      default: !1,
    },
    {
      type: 'bit',
      name: 'autoDelete',
      default: !1,
    },
    {
      type: 'bit',
      name: 'internal',
      default: !1,
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
    {
      type: 'table',
      name: 'arguments',
      default: {},
    },
  ],
});

module.exports.ExchangeDeclareOk = 2621451;

var methodInfoExchangeDeclareOk = (module.exports.methodInfoExchangeDeclareOk = {
  id: 2621451,
  classId: 40,
  methodId: 11,
  name: 'ExchangeDeclareOk',
  args: [],
});

module.exports.ExchangeDelete = 2621460;

var methodInfoExchangeDelete = (module.exports.methodInfoExchangeDelete = {
  id: 2621460,
  classId: 40,
  methodId: 20,
  name: 'ExchangeDelete',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'exchange',
    },
    {
      type: 'bit',
      name: 'ifUnused',
      default: !1,
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
  ],
});

module.exports.ExchangeDeleteOk = 2621461;

var methodInfoExchangeDeleteOk = (module.exports.methodInfoExchangeDeleteOk = {
  id: 2621461,
  classId: 40,
  methodId: 21,
  name: 'ExchangeDeleteOk',
  args: [],
});

module.exports.ExchangeBind = 2621470;

var methodInfoExchangeBind = (module.exports.methodInfoExchangeBind = {
  id: 2621470,
  classId: 40,
  methodId: 30,
  name: 'ExchangeBind',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'destination',
    },
    {
      type: 'shortstr',
      name: 'source',
    },
    {
      type: 'shortstr',
      name: 'routingKey',
      default: '',
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
    {
      type: 'table',
      name: 'arguments',
      default: {},
    },
  ],
});

module.exports.ExchangeBindOk = 2621471;

var methodInfoExchangeBindOk = (module.exports.methodInfoExchangeBindOk = {
  id: 2621471,
  classId: 40,
  methodId: 31,
  name: 'ExchangeBindOk',
  args: [],
});

module.exports.ExchangeUnbind = 2621480;

var methodInfoExchangeUnbind = (module.exports.methodInfoExchangeUnbind = {
  id: 2621480,
  classId: 40,
  methodId: 40,
  name: 'ExchangeUnbind',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'destination',
    },
    {
      type: 'shortstr',
      name: 'source',
    },
    {
      type: 'shortstr',
      name: 'routingKey',
      default: '',
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
    {
      type: 'table',
      name: 'arguments',
      default: {},
    },
  ],
});

module.exports.ExchangeUnbindOk = 2621491;

var methodInfoExchangeUnbindOk = (module.exports.methodInfoExchangeUnbindOk = {
  id: 2621491,
  classId: 40,
  methodId: 51,
  name: 'ExchangeUnbindOk',
  args: [],
});

module.exports.QueueDeclare = 3276810;

var methodInfoQueueDeclare = (module.exports.methodInfoQueueDeclare = {
  id: 3276810,
  classId: 50,
  methodId: 10,
  name: 'QueueDeclare',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'queue',
      default: '',
    },
    {
      type: 'bit',
      name: 'passive',
      default: !1,
    },
    {
      type: 'bit',
      name: 'durable',
      default: !1,
    },
    {
      type: 'bit',
      name: 'exclusive',
      default: !1,
    },
    {
      type: 'bit',
      name: 'autoDelete',
      default: !1,
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
    {
      type: 'table',
      name: 'arguments',
      default: {},
    },
  ],
});

module.exports.QueueDeclareOk = 3276811;

var methodInfoQueueDeclareOk = (module.exports.methodInfoQueueDeclareOk = {
  id: 3276811,
  classId: 50,
  methodId: 11,
  name: 'QueueDeclareOk',
  args: [
    {
      type: 'shortstr',
      name: 'queue',
    },
    {
      type: 'long',
      name: 'messageCount',
    },
    {
      type: 'long',
      name: 'consumerCount',
    },
  ],
});

module.exports.QueueBind = 3276820;

var methodInfoQueueBind = (module.exports.methodInfoQueueBind = {
  id: 3276820,
  classId: 50,
  methodId: 20,
  name: 'QueueBind',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'queue',
      default: '',
    },
    {
      type: 'shortstr',
      name: 'exchange',
    },
    {
      type: 'shortstr',
      name: 'routingKey',
      default: '',
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
    {
      type: 'table',
      name: 'arguments',
      default: {},
    },
  ],
});

module.exports.QueueBindOk = 3276821;

var methodInfoQueueBindOk = (module.exports.methodInfoQueueBindOk = {
  id: 3276821,
  classId: 50,
  methodId: 21,
  name: 'QueueBindOk',
  args: [],
});

module.exports.QueuePurge = 3276830;

var methodInfoQueuePurge = (module.exports.methodInfoQueuePurge = {
  id: 3276830,
  classId: 50,
  methodId: 30,
  name: 'QueuePurge',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'queue',
      default: '',
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
  ],
});

module.exports.QueuePurgeOk = 3276831;

var methodInfoQueuePurgeOk = (module.exports.methodInfoQueuePurgeOk = {
  id: 3276831,
  classId: 50,
  methodId: 31,
  name: 'QueuePurgeOk',
  args: [
    {
      type: 'long',
      name: 'messageCount',
    },
  ],
});

module.exports.QueueDelete = 3276840;

var methodInfoQueueDelete = (module.exports.methodInfoQueueDelete = {
  id: 3276840,
  classId: 50,
  methodId: 40,
  name: 'QueueDelete',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'queue',
      default: '',
    },
    {
      type: 'bit',
      name: 'ifUnused',
      default: !1,
    },
    {
      type: 'bit',
      name: 'ifEmpty',
      default: !1,
    },
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
  ],
});

module.exports.QueueDeleteOk = 3276841;

var methodInfoQueueDeleteOk = (module.exports.methodInfoQueueDeleteOk = {
  id: 3276841,
  classId: 50,
  methodId: 41,
  name: 'QueueDeleteOk',
  args: [
    {
      type: 'long',
      name: 'messageCount',
    },
  ],
});

module.exports.QueueUnbind = 3276850;

var methodInfoQueueUnbind = (module.exports.methodInfoQueueUnbind = {
  id: 3276850,
  classId: 50,
  methodId: 50,
  name: 'QueueUnbind',
  args: [
    {
      type: 'short',
      name: 'ticket',
      default: 0,
    },
    {
      type: 'shortstr',
      name: 'queue',
      default: '',
    },
    {
      type: 'shortstr',
      name: 'exchange',
    },
    {
      type: 'shortstr',
      name: 'routingKey',
      default: '',
    },
    {
      type: 'table',
      name: 'arguments',
      default: {},
    },
  ],
});

module.exports.QueueUnbindOk = 3276851;

var methodInfoQueueUnbindOk = (module.exports.methodInfoQueueUnbindOk = {
  id: 3276851,
  classId: 50,
  methodId: 51,
  name: 'QueueUnbindOk',
  args: [],
});

module.exports.TxSelect = 5898250;

var methodInfoTxSelect = (module.exports.methodInfoTxSelect = {
  id: 5898250,
  classId: 90,
  methodId: 10,
  name: 'TxSelect',
  args: [],
});

module.exports.TxSelectOk = 5898251;

var methodInfoTxSelectOk = (module.exports.methodInfoTxSelectOk = {
  id: 5898251,
  classId: 90,
  methodId: 11,
  name: 'TxSelectOk',
  args: [],
});

module.exports.TxCommit = 5898260;

var methodInfoTxCommit = (module.exports.methodInfoTxCommit = {
  id: 5898260,
  classId: 90,
  methodId: 20,
  name: 'TxCommit',
  args: [],
});

module.exports.TxCommitOk = 5898261;

var methodInfoTxCommitOk = (module.exports.methodInfoTxCommitOk = {
  id: 5898261,
  classId: 90,
  methodId: 21,
  name: 'TxCommitOk',
  args: [],
});

module.exports.TxRollback = 5898270;

var methodInfoTxRollback = (module.exports.methodInfoTxRollback = {
  id: 5898270,
  classId: 90,
  methodId: 30,
  name: 'TxRollback',
  args: [],
});

module.exports.TxRollbackOk = 5898271;

var methodInfoTxRollbackOk = (module.exports.methodInfoTxRollbackOk = {
  id: 5898271,
  classId: 90,
  methodId: 31,
  name: 'TxRollbackOk',
  args: [],
});

module.exports.ConfirmSelect = 5570570;

var methodInfoConfirmSelect = (module.exports.methodInfoConfirmSelect = {
  id: 5570570,
  classId: 85,
  methodId: 10,
  name: 'ConfirmSelect',
  args: [
    {
      type: 'bit',
      name: 'nowait',
      default: !1,
    },
  ],
});

module.exports.ConfirmSelectOk = 5570571;

var methodInfoConfirmSelectOk = (module.exports.methodInfoConfirmSelectOk = {
  id: 5570571,
  classId: 85,
  methodId: 11,
  name: 'ConfirmSelectOk',
  args: [],
});

module.exports.BasicProperties = 60;

var propertiesInfoBasicProperties = (module.exports.propertiesInfoBasicProperties = {
  id: 60,
  name: 'BasicProperties',
  args: [
    {
      type: 'shortstr',
      name: 'contentType',
    },
    {
      type: 'shortstr',
      name: 'contentEncoding',
    },
    {
      type: 'table',
      name: 'headers',
    },
    {
      type: 'octet',
      name: 'deliveryMode',
    },
    {
      type: 'octet',
      name: 'priority',
    },
    {
      type: 'shortstr',
      name: 'correlationId',
    },
    {
      type: 'shortstr',
      name: 'replyTo',
    },
    {
      type: 'shortstr',
      name: 'expiration',
    },
    {
      type: 'shortstr',
      name: 'messageId',
    },
    {
      type: 'timestamp',
      name: 'timestamp',
    },
    {
      type: 'shortstr',
      name: 'type',
    },
    {
      type: 'shortstr',
      name: 'userId',
    },
    {
      type: 'shortstr',
      name: 'appId',
    },
    {
      type: 'shortstr',
      name: 'clusterId',
    },
  ],
});


/***/ }),

/***/ 41428:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

const inherits = (__webpack_require__(57975).inherits);

function trimStack(stack, num) {
  return stack && stack.split('\n').slice(num).join('\n');
}

function IllegalOperationError(msg, stack) {
  const tmp = new Error();
  this.message = msg;
  this.stack = `${this.toString()}\n${trimStack(tmp.stack, 2)}`;
  this.stackAtStateChange = stack;
}
inherits(IllegalOperationError, Error);

IllegalOperationError.prototype.name = 'IllegalOperationError';

function stackCapture(reason) {
  const e = new Error();
  return `Stack capture: ${reason}\n${trimStack(e.stack, 2)}`;
}

module.exports.IllegalOperationError = IllegalOperationError;
module.exports.t = stackCapture;


/***/ }),

/***/ 14695:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

const defs = __webpack_require__(19516);
const format = (__webpack_require__(57975).format);
const HEARTBEAT = (__webpack_require__(58731).HEARTBEAT);

module.exports.closeMessage = (close) => {
  const code = close.fields.replyCode;
  return format('%d (%s) with message "%s"', code, defs.constant_strs[code], close.fields.replyText);
};

module.exports.methodName = (id) => defs.info(id).name;

module.exports.inspect = (frame, showFields) => {
  if (frame === HEARTBEAT) {
    return '<Heartbeat>';
  } else if (!frame.id) {
    return format('<Content channel:%d size:%d>', frame.channel, frame.size);
  } else {
    const info = defs.info(frame.id);
    return format('<%s channel:%d%s>', info.name, frame.channel, showFields ? ` ${JSON.stringify(frame.fields, undefined, 2)}` : '');
  }
};


/***/ }),

/***/ 58731:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

const defs = __webpack_require__(19516);
const constants = defs.constants;
const decode = defs.decode;

module.exports.PROTOCOL_HEADER = `AMQP${String.fromCharCode(0, 0, 9, 1)}`;

/*
  Frame format:

  0      1         3             7                size+7 size+8
  +------+---------+-------------+ +------------+ +-----------+
  | type | channel | size        | | payload    | | frame-end |
  +------+---------+-------------+ +------------+ +-----------+
  octet   short     long            size octets    octet

  In general I want to know those first three things straight away, so I
  can discard frames early.

*/

// framing constants
const FRAME_METHOD = constants.FRAME_METHOD;
const FRAME_HEARTBEAT = constants.FRAME_HEARTBEAT;
const FRAME_HEADER = constants.FRAME_HEADER;
const FRAME_BODY = constants.FRAME_BODY;
const FRAME_END = constants.FRAME_END;

// expected byte sizes for frame parts
const TYPE_BYTES = 1;
const CHANNEL_BYTES = 2;
const SIZE_BYTES = 4;
const FRAME_HEADER_BYTES = TYPE_BYTES + CHANNEL_BYTES + SIZE_BYTES;
const FRAME_END_BYTES = 1;

/**
 * @typedef {{
 *   type: number,
 *   channel: number,
 *   size: number,
 *   payload: Buffer,
 *   rest: Buffer
 * }} FrameStructure
 */

function readInt64BE(buffer, offset) {
  return Number(buffer.readBigInt64BE(offset));
}

// %%% TESTME possibly better to cons the first bit and write the
// second directly, in the absence of IO lists
/**
 * Make a frame header
 * @arg { number } channel
 * @arg { Buffer } payload
 */
module.exports.makeBodyFrame = (channel, payload) => {
  const frameSize = FRAME_HEADER_BYTES + payload.length + FRAME_END_BYTES;

  const frame = Buffer.alloc(frameSize);

  let offset = 0;

  offset = frame.writeUInt8(FRAME_BODY, offset);
  offset = frame.writeUInt16BE(channel, offset);
  offset = frame.writeInt32BE(payload.length, offset);

  payload.copy(frame, offset);
  offset += payload.length;

  frame.writeUInt8(FRAME_END, offset);

  return frame;
};

/**
 * Parse an AMQP frame
 * @arg { Buffer } bin
 * @arg { number } max
 * @returns { FrameStructure | boolean }
 */
function parseFrame(bin, max) {
  if (bin.length < FRAME_HEADER_BYTES) {
    return false;
  }

  const type = bin.readUInt8(0);
  const channel = bin.readUInt16BE(1);
  const size = bin.readUInt32BE(3);

  if (max > 0 && size > max) {
    throw new Error(`Frame size ${size} exceeds maxFrameSize ${max}`);
  }

  const totalSize = FRAME_HEADER_BYTES + size + FRAME_END_BYTES;

  if (bin.length < totalSize) {
    return false;
  }

  const frameEnd = bin.readUInt8(FRAME_HEADER_BYTES + size);

  if (frameEnd !== FRAME_END) {
    throw new Error('Invalid frame');
  }

  return {
    type,
    channel,
    size,
    payload: bin.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + size),
    rest: bin.subarray(totalSize),
  };
}

module.exports.parseFrame = parseFrame;

const HEARTBEAT = { channel: 0 };

/**
 * Decode AMQP frame into JS object
 * @param { FrameStructure } frame
 * @returns
 */
module.exports.decodeFrame = (frame) => {
  const payload = frame.payload;
  const channel = frame.channel;

  switch (frame.type) {
    case FRAME_METHOD: {
      const id = payload.readUInt32BE(0);
      const args = payload.subarray(4);
      const fields = decode(id, args);
      return { id, channel, fields };
    }
    case FRAME_HEADER: {
      const id = payload.readUInt16BE(0);
      // const weight = payload.readUInt16BE(2)
      const size = readInt64BE(payload, 4);
      const flagsAndfields = payload.subarray(12);
      const fields = decode(id, flagsAndfields);
      return { id, channel, size, fields };
    }
    case FRAME_BODY:
      return { channel, content: payload };
    case FRAME_HEARTBEAT:
      return HEARTBEAT;
    default:
      throw new Error(`Unknown frame type ${frame.type}`);
  }
};

// encoded heartbeat
module.exports.HEARTBEAT_BUF = Buffer.from([
  constants.FRAME_HEARTBEAT,
  0,
  0,
  0,
  0, // size = 0
  0,
  0, // channel = 0
  constants.FRAME_END,
]);

module.exports.HEARTBEAT = HEARTBEAT;


/***/ }),

/***/ 28814:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

// Heartbeats. In AMQP both clients and servers may expect a heartbeat
// frame if there is no activity on the connection for a negotiated
// period of time. If there's no activity for two such intervals, the
// server or client is allowed to close the connection on the
// presumption that the other party is dead.
//
// The client has two jobs here: the first is to send a heartbeat
// frame if it's not sent any frames for a while, so that the server
// doesn't think it's dead; the second is to check periodically that
// it's seen activity from the server, and to advise if there doesn't
// appear to have been any for over two intervals.
//
// Node.JS timers are a bit unreliable, in that they endeavour only to
// fire at some indeterminate point *after* the given time (rather
// gives the lie to 'realtime', dunnit). Because the scheduler is just
// an event loop, it's quite easy to delay timers indefinitely by
// reacting to some I/O with a lot of computation.
//
// To mitigate this I need a bit of creative interpretation:
//
//  - I'll schedule a server activity check for every `interval`, and
//    check just how much time has passed. It will overshoot by at
//    least a small margin; modulo missing timer deadlines, it'll
//    notice between two and three intervals after activity actually
//    stops (otherwise, at some point after two intervals).
//
//  - Every `interval / 2` I'll check that we've sent something since
//    the last check, and if not, send a heartbeat frame. If we're
//    really too busy to even run the check for two whole heartbeat
//    intervals, there must be a lot of I (but not O, at least not on
//    the connection), or computation, in which case perhaps it's best
//    the server cuts us off anyway. Why `interval / 2`? Because the
//    edge case is that the client sent a frame just after a
//    heartbeat, which would mean I only send one after almost two
//    intervals. (NB a heartbeat counts as a send, so it'll be checked
//    at least twice before sending another)
//
// This design is based largely on RabbitMQ's heartbeating:
// https://github.com/rabbitmq/rabbitmq-common/blob/master/src/rabbit_heartbeat.erl

// %% Yes, I could apply the same 'actually passage of time' thing to
// %% send as well as to recv.

const EventEmitter = __webpack_require__(78474);

// Exported so that we can mess with it in tests
module.exports.z = 1000;

class Heart extends EventEmitter {
  constructor(interval, checkSend, checkRecv) {
    super();

    this.interval = interval;

    const intervalMs = interval * module.exports.z;
    // Function#bind is my new best friend
    const beat = this.emit.bind(this, 'beat');
    const timeout = this.emit.bind(this, 'timeout');

    this.sendTimer = setInterval(this.runHeartbeat.bind(this, checkSend, beat), intervalMs / 2);

    // A timeout occurs if I see nothing for *two consecutive* intervals
    let recvMissed = 0;
    function missedTwo() {
      if (!checkRecv()) return ++recvMissed < 2;
      else {
        recvMissed = 0;
        return true;
      }
    }
    this.recvTimer = setInterval(this.runHeartbeat.bind(this, missedTwo, timeout), intervalMs);
  }

  clear() {
    clearInterval(this.sendTimer);
    clearInterval(this.recvTimer);
  }

  runHeartbeat(check, fail) {
    // Have we seen activity?
    if (!check()) fail();
  }
}

module.exports.B = Heart;


/***/ }),

/***/ 32560:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

// A Mux is an object into which other readable streams may be piped;
// it then writes 'packets' from the upstreams to the given
// downstream.

const assert = __webpack_require__(34589);

const schedule = typeof setImmediate === 'function' ? setImmediate : process.nextTick;

class Mux {
  constructor(downstream) {
    this.newStreams = [];
    this.oldStreams = [];
    this.blocked = false;
    this.scheduledRead = false;

    this.out = downstream;
    downstream.on('drain', () => {
      this.blocked = false;
      this._readIncoming();
    });
  }

  // There are 2 states we can be in:
  // - waiting for outbound capacity, which will be signalled by a
  // - 'drain' event on the downstream; or,
  // - no packets to send, waiting for an inbound buffer to have
  //   packets, which will be signalled by a 'readable' event
  // If we write all packets available whenever there is outbound
  // capacity, we will either run out of outbound capacity (`#write`
  // returns false), or run out of packets (all calls to an
  // `inbound.read()` have returned null).
  _readIncoming() {
    // We may be sent here speculatively, if an incoming stream has
    // become readable
    if (this.blocked) return;

    let accepting = true;
    const out = this.out;

    // Try to read a chunk from each stream in turn, until all streams
    // are empty, or we exhaust our ability to accept chunks.
    function roundrobin(streams) {
      while (accepting && streams.length > 0) {
        const stream = streams.shift();
        const chunk = stream.read();
        if (chunk !== null) {
          accepting = out.write(chunk);
          streams.push(stream);
        }
      }
    }

    roundrobin(this.newStreams);

    // Either we exhausted the new queues, or we ran out of capacity. If
    // we ran out of capacity, all the remaining new streams (i.e.,
    // those with packets left) become old streams. This effectively
    // prioritises streams that keep their buffers close to empty over
    // those that are constantly near full.
    if (accepting) {
      // all new queues are exhausted, write as many as
      // we can from the old streams
      assert.equal(0, this.newStreams.length);
      roundrobin(this.oldStreams);
    } else {
      // ran out of room
      assert(this.newStreams.length > 0, 'Expect some new streams to remain');
      Array.prototype.push.apply(this.oldStreams, this.newStreams);
      this.newStreams = [];
    }
    // We may have exhausted all the old queues, or run out of room;
    // either way, all we need to do is record whether we have capacity
    // or not, so any speculative reads will know
    this.blocked = !accepting;
  }

  _scheduleRead() {
    if (!this.scheduledRead) {
      schedule(() => {
        this.scheduledRead = false;
        this._readIncoming();
      });
      this.scheduledRead = true;
    }
  }

  pipeFrom(readable) {
    const self = this;

    function enqueue() {
      self.newStreams.push(readable);
      self._scheduleRead();
    }

    function cleanup() {
      readable.removeListener('readable', enqueue);
      readable.removeListener('error', cleanup);
      readable.removeListener('end', cleanup);
      readable.removeListener('unpipeFrom', cleanupIfMe);
    }
    function cleanupIfMe(dest) {
      if (dest === self) cleanup();
    }

    readable.on('unpipeFrom', cleanupIfMe);
    readable.on('end', cleanup);
    readable.on('error', cleanup);
    readable.on('readable', enqueue);
  }

  unpipeFrom(readable) {
    readable.emit('unpipeFrom', this);
  }
}

module.exports.Z = Mux;


/***/ }),

/***/ 95499:
/***/ ((module, __unused_webpack_exports, __webpack_require__) => {

const EventEmitter = __webpack_require__(78474);

const DEFAULT_RECOVERY = {
  initialDelay: 100,
  maxDelay: 30000,
  factor: 2,
  jitter: 0.2,
  maxRetries: Infinity,
  setup: null,
  waitForConnect: true,
  calculateDelay: null,
};

function splitConnectionOptions(connOptions) {
  if (!connOptions || typeof connOptions !== 'object') {
    return {
      connectionOptions: connOptions,
      recovery: null,
    };
  }

  if (!Object.hasOwn(connOptions, 'recovery')) {
    return {
      connectionOptions: connOptions,
      recovery: null,
    };
  }

  const connectionOptions = Object.assign({}, connOptions);
  const recovery = connectionOptions.recovery;
  delete connectionOptions.recovery;

  return { connectionOptions, recovery };
}

function recoveryEnabled(recovery) {
  if (!recovery) return false;
  if (recovery === true) return true;
  return recovery.enabled !== false;
}

function toFiniteNumber(value, fallback) {
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

function toRetryCount(value, fallback) {
  if (value == null) return fallback;
  if (value === Infinity) return Infinity;
  const n = toFiniteNumber(value, fallback);
  return n < 0 ? 0 : n;
}

function normaliseRecoveryOptions(recovery) {
  const source = recovery === true ? {} : recovery || {};
  const initialDelay = Math.max(0, toFiniteNumber(source.initialDelay, DEFAULT_RECOVERY.initialDelay));
  const maxDelay = Math.max(initialDelay, toFiniteNumber(source.maxDelay, DEFAULT_RECOVERY.maxDelay));
  const factor = Math.max(1, toFiniteNumber(source.factor, DEFAULT_RECOVERY.factor));
  const jitter = Math.min(1, Math.max(0, toFiniteNumber(source.jitter, DEFAULT_RECOVERY.jitter)));
  const maxRetries = toRetryCount(source.maxRetries, Infinity);
  const initialMaxRetries = toRetryCount(source.initialMaxRetries, maxRetries);

  return {
    initialDelay,
    maxDelay,
    factor,
    jitter,
    maxRetries,
    initialMaxRetries,
    setup: typeof source.setup === 'function' ? source.setup : null,
    waitForConnect: source.waitForConnect !== false,
    calculateDelay: typeof source.calculateDelay === 'function' ? source.calculateDelay : null,
  };
}

function toError(err, fallbackMessage) {
  if (err instanceof Error) return err;
  return new Error(err ? String(err) : fallbackMessage);
}

function calculateBuiltinDelay(recovery, attempt) {
  // Capping the base at maxDelay and then clamping base+offset to maxDelay
  // would put a point mass on maxDelay itself: once base saturates, every
  // positive jitter draw (half of them) collapses onto the same value,
  // defeating the point of jitter. Capping the base at
  // maxDelay / (1 + jitter) instead means the maximum possible offset
  // lands exactly on maxDelay, so the result never exceeds it without
  // needing a final clamp - the distribution stays smooth right up to the cap.
  const cappedBase = recovery.maxDelay / (1 + recovery.jitter);
  const base = Math.min(cappedBase, recovery.initialDelay * recovery.factor ** (attempt - 1));
  const jitterPart = base * recovery.jitter;
  const offset = jitterPart > 0 ? Math.random() * jitterPart * 2 - jitterPart : 0;
  return Math.max(0, Math.round(base + offset));
}

// A custom `calculateDelay` that throws, or returns something other than a
// finite, non-negative number, is a bug in caller-supplied code. Rather than
// silently falling back to the built-in strategy, the error is treated as a
// terminal recovery failure by the caller (see _scheduleReconnect), so it
// surfaces immediately instead of manifesting as unexplained delay behavior.
function calculateDelay(recovery, attempt) {
  if (!recovery.calculateDelay) {
    return calculateBuiltinDelay(recovery, attempt);
  }

  const custom = recovery.calculateDelay(attempt);
  if (typeof custom === 'number' && Number.isFinite(custom) && custom >= 0) {
    return Math.round(custom);
  }

  throw new Error(`calculateDelay must return a finite, non-negative number of milliseconds (got ${String(custom)})`);
}

function runSetup(setup, model) {
  if (!setup) return Promise.resolve();

  return new Promise((resolve, reject) => {
    let settled = false;

    function done(err) {
      if (settled) return;
      settled = true;
      if (err) reject(toError(err, 'Recovery setup failed'));
      else resolve();
    }

    try {
      if (setup.length >= 2) {
        setup(model, done);
      } else {
        Promise.resolve(setup(model)).then(() => done(), done);
      }
    } catch (err) {
      done(err);
    }
  });
}

function makeCallback(promise, cb) {
  const callback = typeof cb === 'function' ? cb : () => {};
  promise.then(
    (value) => callback(null, value),
    (err) => callback(toError(err, 'Operation failed')),
  );
}

class RecoveringCore extends EventEmitter {
  constructor(openModel, recovery, adapters) {
    super();
    this._openModel = openModel;
    this._recovery = normaliseRecoveryOptions(recovery);
    this._adapters = adapters;
    this._model = null;
    this._modelListeners = null;
    this._waiters = [];
    this._connecting = false;
    this._stopped = false;
    this._failure = null;
    this._connectedOnce = false;
    this._timer = null;
    this._attempt = 0;

    this._initialReady = false;
    this._initialWait = new Promise((resolve, reject) => {
      this._resolveInitial = resolve;
      this._rejectInitial = reject;
    });
    // The initial connection promise is only consumed if the caller opts to
    // wait for it, so swallow rejections here to avoid unhandled rejections
    // when close() is called or retries are exhausted before anyone awaits it.
    this._initialWait.catch(() => {});

    // Defer the first attempt so callers that receive the model before the
    // initial connection have a chance to attach listeners before any
    // 'connect', 'connect-failed' or 'reconnect-scheduled' events are emitted.
    setImmediate(() => this._connect());
  }

  waitForConnect() {
    return this._initialWait;
  }

  async close() {
    if (this._stopped) return;
    this._stopped = true;

    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = null;
    }

    const closedError = new Error('Connection closed');
    this._rejectPendingWaiters(closedError);
    this._rejectInitialConnection(closedError);

    if (this._model) {
      const model = this._model;
      this._model = null;
      this._unbindModel();
      await this._closeModelNoThrow(model);
    }
  }

  async createChannel(options) {
    const model = await this._waitForConnection();
    return this._adapters.createChannel(model, options, false);
  }

  async createConfirmChannel(options) {
    const model = await this._waitForConnection();
    return this._adapters.createChannel(model, options, true);
  }

  async updateSecret(newSecret, reason) {
    const model = await this._waitForConnection();
    return this._adapters.updateSecret(model, newSecret, reason);
  }

  _resolveInitialConnection() {
    if (this._initialReady) return;
    this._initialReady = true;
    this._resolveInitial();
  }

  _rejectInitialConnection(err) {
    if (this._initialReady) return;
    this._initialReady = true;
    this._rejectInitial(err);
  }

  _resolvePendingWaiters(model) {
    const waiters = this._waiters.splice(0);
    waiters.forEach((waiter) => {
      waiter.resolve(model);
    });
  }

  _rejectPendingWaiters(err) {
    const waiters = this._waiters.splice(0);
    waiters.forEach((waiter) => {
      waiter.reject(err);
    });
  }

  _waitForConnection() {
    if (this._model) return Promise.resolve(this._model);
    if (this._stopped) return Promise.reject(this._failure || new Error('Connection closed'));

    return new Promise((resolve, reject) => {
      this._waiters.push({ resolve, reject });
    });
  }

  _bindModel(model) {
    const onClose = (maybeErr) => {
      if (this._model !== model) return;

      this._model = null;
      this._unbindModel();
      if (this._stopped) return;

      const err = toError(maybeErr, 'Connection closed');
      this.emit('disconnect', err);
      this._scheduleReconnect(err);
    };

    const onBlocked = (reason) => this.emit('blocked', reason);
    const onUnblocked = () => this.emit('unblocked');
    const onConnectionError = (err) => this.emit('error', err);
    const onUpdateSecretOk = () => this.emit('update-secret-ok');
    const onHandlerError = (err, event) => this.emit('handler-error', err, event);

    model.on('close', onClose);
    model.on('blocked', onBlocked);
    model.on('unblocked', onUnblocked);
    model.on('error', onConnectionError);
    model.on('update-secret-ok', onUpdateSecretOk);
    model.on('handler-error', onHandlerError);

    this._modelListeners = {
      model,
      onClose,
      onBlocked,
      onUnblocked,
      onConnectionError,
      onUpdateSecretOk,
      onHandlerError,
    };
  }

  _unbindModel() {
    if (!this._modelListeners) return;
    const { model, onClose, onBlocked, onUnblocked, onConnectionError, onUpdateSecretOk, onHandlerError } = this._modelListeners;
    model.removeListener('close', onClose);
    model.removeListener('blocked', onBlocked);
    model.removeListener('unblocked', onUnblocked);
    model.removeListener('error', onConnectionError);
    model.removeListener('update-secret-ok', onUpdateSecretOk);
    model.removeListener('handler-error', onHandlerError);
    model.on('error', () => {});
    this._modelListeners = null;
  }

  async _connect() {
    if (this._stopped || this._connecting) return;
    this._connecting = true;

    let model;
    try {
      model = await this._openModel();
      if (!this._stopped) await runSetup(this._recovery.setup, model);
      if (this._stopped) {
        await this._closeModelNoThrow(model);
        return;
      }

      this._model = model;
      this._attempt = 0;
      this._connectedOnce = true;
      this._bindModel(model);
      this._resolveInitialConnection();
      this._resolvePendingWaiters(model);
      this.emit('connect', model);
    } catch (err) {
      const error = toError(err, 'Connection recovery failed');
      if (model) await this._closeModelNoThrow(model);
      this.emit('connect-failed', error);
      this._scheduleReconnect(error);
    } finally {
      this._connecting = false;
    }
  }

  _scheduleReconnect(err) {
    if (this._stopped) return;

    if (this._timer) return;

    const maxRetries = this._connectedOnce ? this._recovery.maxRetries : this._recovery.initialMaxRetries;
    if (this._attempt >= maxRetries) {
      this._abandonRecovery(err);
      return;
    }

    const attempt = this._attempt + 1;
    let delay;
    try {
      delay = calculateDelay(this._recovery, attempt);
    } catch (delayErr) {
      // Both callers of _scheduleReconnect run from timers or socket events
      // where a throw would either be an unhandled rejection or an uncaught
      // exception. Give up recovery cleanly instead so the failure reaches the
      // initial connect promise, pending channel waiters and 'reconnect-failed'.
      this._abandonRecovery(toError(delayErr, 'calculateDelay failed'));
      return;
    }
    this._attempt = attempt;

    this.emit('reconnect-scheduled', { attempt, delay, error: err });
    this._timer = setTimeout(() => {
      this._timer = null;
      this._connect();
    }, delay);
  }

  _abandonRecovery(err) {
    // Recovery is over and cannot be restarted, so treat the connection as
    // stopped. Remember why, so channel operations attempted afterwards
    // reject with the underlying failure instead of waiting forever for a
    // connection that will never arrive.
    this._stopped = true;
    this._failure = err;
    this._rejectInitialConnection(err);
    this._rejectPendingWaiters(err);
    this.emit('reconnect-failed', err);
  }

  _closeModelNoThrow(model) {
    return this._adapters.closeModel(model).catch(() => {});
  }
}

const PROMISE_ADAPTERS = {
  closeModel(model) {
    return model.close();
  },
  createChannel(model, options, confirm) {
    return confirm ? model.createConfirmChannel(options) : model.createChannel(options);
  },
  updateSecret(model, newSecret, reason) {
    return model.updateSecret(newSecret, reason);
  },
};

function callbackClose(model) {
  return new Promise((resolve, reject) => {
    model.close((err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

function callbackCreateChannel(model, options, confirm) {
  return new Promise((resolve, reject) => {
    const method = confirm ? 'createConfirmChannel' : 'createChannel';
    const cb = (err, channel) => {
      if (err) reject(err);
      else resolve(channel);
    };

    if (options === undefined) model[method](cb);
    else model[method](options, cb);
  });
}

function callbackUpdateSecret(model, newSecret, reason) {
  return new Promise((resolve, reject) => {
    model.updateSecret(newSecret, reason, (err, ok) => {
      if (err) reject(err);
      else resolve(ok);
    });
  });
}

const CALLBACK_ADAPTERS = {
  closeModel: callbackClose,
  createChannel: callbackCreateChannel,
  updateSecret: callbackUpdateSecret,
};

function wireCommonEvents(source, target) {
  [
    'connect',
    'disconnect',
    'connect-failed',
    'reconnect-scheduled',
    'reconnect-failed',
    'blocked',
    'unblocked',
    'error',
    'update-secret-ok',
    'handler-error',
  ].forEach((eventName) => {
    source.on(eventName, (...args) => target.emit(eventName, ...args));
  });
}

class RecoveringPromiseModel extends EventEmitter {
  constructor(openModel, recovery) {
    super();
    this._core = new RecoveringCore(openModel, recovery, PROMISE_ADAPTERS);
    wireCommonEvents(this._core, this);
  }

  async waitForConnect() {
    await this._core.waitForConnect();
    return this;
  }

  close() {
    return this._core.close();
  }

  createChannel(options) {
    return this._core.createChannel(options);
  }

  createConfirmChannel(options) {
    return this._core.createConfirmChannel(options);
  }

  updateSecret(newSecret, reason) {
    return this._core.updateSecret(newSecret, reason);
  }
}

class RecoveringCallbackModel extends EventEmitter {
  constructor(openModel, recovery) {
    super();
    this._core = new RecoveringCore(openModel, recovery, CALLBACK_ADAPTERS);
    wireCommonEvents(this._core, this);
  }

  waitForConnect(cb) {
    const callback = typeof cb === 'function' ? cb : () => {};
    this._core.waitForConnect().then(
      () => callback(null, this),
      (err) => callback(toError(err, 'Operation failed')),
    );
    return this;
  }

  close(cb) {
    makeCallback(this._core.close(), cb);
    return this;
  }

  updateSecret(newSecret, reason, cb) {
    makeCallback(this._core.updateSecret(newSecret, reason), cb);
    return this;
  }

  createChannel(options, cb) {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    makeCallback(this._core.createChannel(options), cb);
    return this;
  }

  createConfirmChannel(options, cb) {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    makeCallback(this._core.createConfirmChannel(options), cb);
    return this;
  }
}

function connectWithRecoveryPromise(openModel, recovery) {
  const recovering = new RecoveringPromiseModel(openModel, recovery);
  if (!recovering._core._recovery.waitForConnect) return Promise.resolve(recovering);
  return recovering.waitForConnect();
}

function connectWithRecoveryCallback(openModel, recovery, cb) {
  const recovering = new RecoveringCallbackModel(openModel, recovery);
  if (recovering._core._recovery.waitForConnect) {
    recovering.waitForConnect(cb);
  } else if (typeof cb === 'function') {
    process.nextTick(cb, null, recovering);
  }
  return recovering;
}

module.exports = {
  splitConnectionOptions,
  recoveryEnabled,
  connectWithRecoveryPromise,
  connectWithRecoveryCallback,
  RecoveringPromiseModel,
  RecoveringCallbackModel,
};


/***/ }),

/***/ 715:
/***/ ((module) => {

function safeEmit(emitter, event, ...args) {
  try {
    emitter.emit(event, ...args);
  } catch (e) {
    if (emitter.listenerCount('handler-error') > 0) {
      setImmediate(() => emitter.emit('handler-error', e, event));
    } else {
      throw e;
    }
  }
}

module.exports = safeEmit;


/***/ }),

/***/ 92246:
/***/ ((module) => {

module.exports = {"rE":"2.3.1"};

/***/ })

};

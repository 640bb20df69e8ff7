/* SPDX-License-Identifier: MIT */
/*
 * trace.c - the decision trace (trace.h): layer names, the trace= parser,
 * the sink (stderr, trace-file= or a stream a test attaches), and the two
 * line formats (text, JSON Lines).
 *
 * Every line is formatted into a local buffer first and written with one
 * fputs + fflush under st->trace_lock, so lines from the receive thread and
 * from caller threads never interleave, and a crash loses at most the line
 * being written.  A line longer than the buffer is cut (the JSON stays
 * valid: strings are closed).
 */
#include "stack/stack_impl.h"
#include "stack/wire/wire6.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static const char *const layer_names[TL__COUNT] = {
    [TL_LINK] = "link", [TL_ARP] = "arp",   [TL_ND] = "nd",         [TL_IPV4] = "ipv4",
    [TL_IPV6] = "ipv6", [TL_FRAG] = "frag", [TL_ICMP] = "icmp",     [TL_ICMPV6] = "icmpv6",
    [TL_UDP] = "udp",   [TL_WSK] = "wsk",   [TL_IRP] = "irp",
};

const char *trace_layer_name(enum trace_layer l)
{
    return (unsigned)l < TL__COUNT ? layer_names[l] : NULL;
}

int trace_parse_layers(const char *text, uint32_t *mask, char *bad, size_t bad_len)
{
    uint32_t m = 0;
    const char *p = text;
    if (bad && bad_len)
        bad[0] = '\0';
    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 3 && strncmp(p, "all", 3) == 0) {
            m |= TRACE_ALL;
        } else if (n == 4 && strncmp(p, "none", 4) == 0) {
            /* nothing */
        } else if (n == 0 && !e && p == text) {
            /* trace= (empty): off */
        } else {
            unsigned i;
            for (i = 0; i < TL__COUNT; i++)
                if (strlen(layer_names[i]) == n && strncmp(p, layer_names[i], n) == 0)
                    break;
            if (i == TL__COUNT) {
                if (bad && bad_len)
                    snprintf(bad, bad_len, "%.*s", (int)(n > 32 ? 32 : n), p);
                return -EINVAL;
            }
            m |= 1u << i;
        }
        if (!e)
            break;
        p = e + 1;
    }
    *mask = m;
    return 0;
}

uint32_t stack_trace_mask(const struct wskstack *st)
{
    return st->trace_mask;
}

/* ---- sink ------------------------------------------------------------------- */

int trace_init(struct wskstack *st, const struct wskstack_config *cfg, char *err, size_t errlen)
{
    if (pthread_mutex_init(&st->trace_lock, NULL) != 0)
        return -ENOMEM;
    st->trace_lock_ok = true;
    if (!cfg || cfg->trace_mask == 0)
        return 0;
    FILE *f = stderr;
    if (cfg->trace_file[0]) {
        f = fopen(cfg->trace_file, "we");
        if (!f) {
            int rc = -errno;
            if (err && errlen)
                snprintf(err, errlen, "trace-file: cannot open \"%.200s\": %s", cfg->trace_file,
                         strerror(errno));
            return rc;
        }
        st->trace_owned = true;
    }
    st->trace = f;
    st->trace_fmt = cfg->trace_json ? TRACE_FMT_JSON : TRACE_FMT_TEXT;
    st->trace_flags = 0;
    st->trace_mask = cfg->trace_mask;
    return 0;
}

void trace_fini(struct wskstack *st)
{
    FILE *f = trace_detach(st);
    (void)f; /* not ours: the caller of trace_attach closes it */
    if (st->trace_lock_ok) {
        pthread_mutex_destroy(&st->trace_lock);
        st->trace_lock_ok = false;
    }
}

void trace_attach(struct wskstack *st, FILE *out, uint32_t mask, enum trace_format fmt,
                  unsigned flags)
{
    FILE *old = trace_detach(st);
    (void)old;
    pthread_mutex_lock(&st->trace_lock);
    st->trace = out;
    st->trace_owned = false;
    st->trace_fmt = (uint8_t)fmt;
    st->trace_flags = (uint8_t)flags;
    st->trace_mask = out ? (mask & TRACE_ALL) : 0;
    pthread_mutex_unlock(&st->trace_lock);
}

FILE *trace_detach(struct wskstack *st)
{
    if (!st->trace_lock_ok)
        return NULL;
    pthread_mutex_lock(&st->trace_lock);
    FILE *f = st->trace;
    bool owned = st->trace_owned;
    st->trace_mask = 0;
    st->trace = NULL;
    st->trace_owned = false;
    pthread_mutex_unlock(&st->trace_lock);
    if (f && owned) {
        if (f != stderr && f != stdout)
            fclose(f);
        return NULL;
    }
    return f;
}

/* ---- formatting ------------------------------------------------------------- */

struct line {
    char *b;
    size_t cap, len;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->len >= l->cap - 1)
        return;
    if (n > l->cap - 1 - l->len)
        n = l->cap - 1 - l->len;
    memcpy(l->b + l->len, s, n);
    l->len += n;
    l->b[l->len] = '\0';
}

static void puts_(struct line *l, const char *s) { put(l, s, strlen(s)); }

/* A JSON string (RFC 8259 §7): quote, backslash and control characters
 * escaped; everything else (UTF-8 such as "§") as it is.  Room for the
 * closing quote is kept so a cut line stays valid JSON. */
static void put_json_str(struct line *l, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t reserve = l->cap > 8 ? l->cap - 8 : 0; /* closing '"', '}' and '\n' */
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p && l->len < reserve; p++) {
        char esc[7];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(l, esc, 2);
        } else if (*p == '\n') {
            put(l, "\\n", 2);
        } else if (*p == '\t') {
            put(l, "\\t", 2);
        } else if (*p < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            put(l, esc, 6);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    if (l->len > l->cap - 2)
        l->len = l->cap - 2;
    l->b[l->len++] = '"';
    l->b[l->len] = '\0';
}

/* "... (B.7, RFC 826)" -> "RFC 826"; "(RFC 4861 §7.1.1)" -> "RFC 4861 §7.1.1".
 * The citation runs to the first ')', ',', ';' or ':'.  False if none. */
static bool rfc_of(const char *msg, char *out, size_t outlen)
{
    const char *p = strstr(msg, "RFC ");
    if (!p || p[4] < '0' || p[4] > '9')
        return false;
    size_t n = strcspn(p, "),;:");
    while (n > 0 && p[n - 1] == ' ')
        n--;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* The number fields (trace.h: TNUM), as JSON numbers, after the strings. */
static void put_json_nums(struct line *l, const struct trace_fields *f)
{
    const struct {
        const char *k;
        trace_num v;
    } kn[] = {{"proto", f->proto}, {"len", f->len},   {"sport", f->sport}, {"dport", f->dport},
              {"id", f->id},       {"seq", f->seq},   {"ttl", f->ttl},     {"type", f->type},
              {"code", f->code},   {"mtu", f->mtu},   {"count", f->count}};
    for (size_t i = 0; i < sizeof kn / sizeof kn[0]; i++) {
        if (!(kn[i].v & TRACE_NUM_SET))
            continue;
        char num[48];
        int n = snprintf(num, sizeof num, ",\"%s\":%lu", kn[i].k,
                         (unsigned long)(uint32_t)kn[i].v);
        if (l->len + (size_t)n + 8 > l->cap)
            return; /* a cut line keeps whole fields only: it stays valid JSON */
        put(l, num, (size_t)n);
    }
}

static const char *const dir_names[3] = {"-", "rx", "tx"};

static void emit_line(struct wskstack *st, enum trace_layer layer, enum trace_dir dir,
                      const char *event, const struct trace_fields *f, const char *msg)
{
    uint64_t t = stack_now(st);
    const char *dn = dir_names[(unsigned)dir < 3 ? dir : 0];
    char buf[2048];
    struct line l = {.b = buf, .cap = sizeof buf};
    buf[0] = '\0';
    if (st->trace_fmt == TRACE_FMT_JSON) {
        char num[32];
        snprintf(num, sizeof num, "{\"t\":%llu", (unsigned long long)t);
        puts_(&l, num);
        puts_(&l, ",\"layer\":\"");
        puts_(&l, layer_names[layer]);
        puts_(&l, "\",\"dir\":\"");
        puts_(&l, dn);
        puts_(&l, "\",\"event\":");
        put_json_str(&l, event ? event : "info");
        puts_(&l, ",\"msg\":");
        put_json_str(&l, msg);
        struct trace_fields none = {0};
        if (!f)
            f = &none;
        char rfc[64];
        const char *rfcv = f->rfc;
        if (!rfcv && rfc_of(msg, rfc, sizeof rfc))
            rfcv = rfc;
        const struct {
            const char *k, *v;
        } kv[] = {{"counter", f->counter}, {"rfc", rfcv},     {"src", f->src},
                  {"dst", f->dst},         {"nexthop", f->nexthop}, {"route", f->route},
                  {"rule", f->rule},       {"from", f->from}, {"to", f->to},
                  {"irp", f->irp},         {"call", f->call},
                  {"status", f->status},   {"mac", f->mac},   {"target", f->target},
                  {"prefix", f->prefix}};
        for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
            if (!kv[i].v)
                continue;
            put(&l, ",\"", 2);
            puts_(&l, kv[i].k);
            put(&l, "\":", 2);
            put_json_str(&l, kv[i].v);
        }
        put_json_nums(&l, f);
        if (l.len > l.cap - 3)
            l.len = l.cap - 3;
        l.b[l.len++] = '}';
    } else {
        if (!(st->trace_flags & TRACE_F_NOTIME)) {
            char ts[40];
            snprintf(ts, sizeof ts, "%llu.%09llu ", (unsigned long long)(t / 1000000000ull),
                     (unsigned long long)(t % 1000000000ull));
            puts_(&l, ts);
        }
        puts_(&l, layer_names[layer]);
        put(&l, " ", 1);
        puts_(&l, dn);
        put(&l, " ", 1);
        puts_(&l, msg);
        if (l.len > l.cap - 2)
            l.len = l.cap - 2;
    }
    l.b[l.len++] = '\n';
    l.b[l.len] = '\0';

    pthread_mutex_lock(&st->trace_lock);
    if (st->trace) {
        fputs(buf, st->trace);
        fflush(st->trace);
    }
    pthread_mutex_unlock(&st->trace_lock);
}

void trace_event(struct wskstack *st, enum trace_layer layer, enum trace_dir dir,
                 const char *event, const struct trace_fields *f, const char *fmt, ...)
{
    if ((unsigned)layer >= TL__COUNT || !TRACE_ON(st->trace_mask, 1u << layer))
        return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit_line(st, layer, dir, event, f, msg);
}

/* ---- helpers for the call sites (stack_impl.h) ------------------------------- */

const char *trace_mac(const uint8_t mac[6], char buf[TRACE_MAC_LEN])
{
    snprintf(buf, TRACE_MAC_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
    return buf;
}

const char *trace_ip4(uint32_t a, char buf[TRACE_IP_LEN])
{
    snprintf(buf, TRACE_IP_LEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
             a & 0xff);
    return buf;
}

const char *trace_ip6(const uint8_t a[16], char buf[TRACE_IP_LEN])
{
    struct ip_addr x = {.af = IPA_V6};
    memcpy(x.v6, a, 16);
    return ip_addr_str(&x, buf, TRACE_IP_LEN);
}

const char *trace_proto_name(unsigned proto)
{
    switch (proto) {
    case IP_PROTO_ICMP: return "icmp";
    case IP_PROTO_UDP: return "udp";
    case IP_PROTO_ICMPV6: return "icmpv6";
    case IP_PROTO_NONE: return "none";
    default: return "?";
    }
}

/* ---- the string-layer calls of stack_impl.h --------------------------------- */

/* The names the files of stack/ have always passed, onto the layers. */
enum trace_layer trace_layer_of(const char *name)
{
    static const struct {
        const char *name;
        enum trace_layer l;
    } map[] = {
        {"eth", TL_LINK},    {"stack", TL_LINK},  {"link", TL_LINK},       {"arp", TL_ARP},
        {"nd", TL_ND},       {"ipv4", TL_IPV4},   {"ipv6", TL_IPV6},       {"addr6", TL_IPV6},
        {"frag", TL_FRAG},   {"ipv4-reasm", TL_FRAG}, {"ipv6-reasm", TL_FRAG}, {"icmp", TL_ICMP},
        {"icmpv6", TL_ICMPV6}, {"udp", TL_UDP},   {"udp6", TL_UDP},        {"wsk", TL_WSK},
        {"irp", TL_IRP},
    };
    for (size_t i = 0; name && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, name) == 0)
            return map[i].l;
    return TL_LINK;
}

/* Which way the packet behind a drop was going, from the counter's nstat
 * name: Out/Snd counters and the resolution queues are the send path. */
enum trace_dir trace_dir_of_counter(const char *name)
{
    if (strstr(name, "Out") || strstr(name, "Snd") || strstr(name, "QueueDrops") ||
        strstr(name, "ResolveFailed") || strstr(name, "Frag"))
        return TD_TX;
    return TD_RX;
}

/* stack_trace(): a message of the form "drop <Counter>: <reason>" (the
 * older drop sites that count by hand) is a drop event with its counter. */
void stack_trace_str(struct wskstack *st, const char *layer, const char *fmt, ...)
{
    enum trace_layer l = trace_layer_of(layer);
    if (!TRACE_ON(st->trace_mask, 1u << l))
        return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (strncmp(msg, "drop ", 5) == 0) {
        char counter[48];
        size_t n = strcspn(msg + 5, ": ");
        if (n > 0 && n < sizeof counter && msg[5 + n] == ':') {
            memcpy(counter, msg + 5, n);
            counter[n] = '\0';
            struct trace_fields f = {.counter = counter};
            emit_line(st, l, trace_dir_of_counter(counter), "drop", &f, msg);
            return;
        }
    }
    emit_line(st, l, TD_NONE, NULL, NULL, msg);
}

void trace_drop(struct wskstack *st, const char *layer, const char *counter, const char *reason)
{
    enum trace_layer l = trace_layer_of(layer);
    if (!TRACE_ON(st->trace_mask, 1u << l))
        return;
    char msg[768];
    snprintf(msg, sizeof msg, "drop %s: %s", counter, reason);
    struct trace_fields f = {.counter = counter};
    emit_line(st, l, trace_dir_of_counter(counter), "drop", &f, msg);
}

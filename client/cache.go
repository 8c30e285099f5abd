package client

import (
	"container/list"
	"sync"
)

// cache keeps response bodies with their ETags for conditional GETs, up
// to max bytes of bodies, evicting the least recently used.
type cache struct {
	max int64

	mu   sync.Mutex // guards size, ll and m
	size int64
	ll   *list.List               // of *cacheEntry, most recently used first
	m    map[string]*list.Element // by request URL
}

// cacheEntry is one stored response.
type cacheEntry struct {
	key  string // the request URL
	etag string
	url  string // the URL the body came from, after redirects: its base
	body []byte // decompressed hyperglyph
}

func newCache(max int64) *cache {
	return &cache{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

func (c *cache) get(key string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.m[key]
	if el == nil {
		return nil
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

func (c *cache) put(e *cacheEntry) {
	n := int64(len(e.body))
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.m[e.key]; el != nil {
		c.size -= int64(len(el.Value.(*cacheEntry).body))
		c.ll.Remove(el)
	}
	c.m[e.key] = c.ll.PushFront(e)
	c.size += n
	for c.size > c.max {
		el := c.ll.Back()
		old := el.Value.(*cacheEntry)
		c.ll.Remove(el)
		delete(c.m, old.key)
		c.size -= int64(len(old.body))
	}
}

// Package wire reads and writes MongoDB wire-protocol messages: the standard header,
// OP_MSG (kind-0 body and kind-1 document sequences, checksums, moreToCome), and the
// legacy OP_QUERY/OP_REPLY pair that drivers still use for their first handshake.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Opcodes the server understands or names in errors.
const (
	OpReply      int32 = 1
	OpUpdate     int32 = 2001
	OpInsert     int32 = 2002
	OpQuery      int32 = 2004
	OpGetMore    int32 = 2005
	OpDelete     int32 = 2006
	OpKillCursor int32 = 2007
	OpCompressed int32 = 2012
	OpMsg        int32 = 2013
)

// OP_MSG flag bits.
const (
	FlagChecksumPresent uint32 = 1 << 0
	FlagMoreToCome      uint32 = 1 << 1
	FlagExhaustAllowed  uint32 = 1 << 16
)

// HeaderLen is the size of the standard message header.
const HeaderLen = 16

// MaxMessageSize is the largest message the server accepts, as advertised in hello
// (maxMessageSizeBytes).
const MaxMessageSize = 48_000_000

// ErrProtocol reports a message that violates the wire protocol. The connection that
// sent it cannot be trusted to stay in sync and is closed.
var ErrProtocol = errors.New("wire protocol error")

func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// Header is the standard message header.
type Header struct {
	Length     int32
	RequestID  int32
	ResponseTo int32
	OpCode     int32
}

// Message is one message read from a connection.
type Message struct {
	Header Header
	Body   []byte // everything after the header
}

// ReadMessage reads one whole message. It rejects lengths outside
// [HeaderLen, MaxMessageSize] without reading the body.
func ReadMessage(r io.Reader) (*Message, error) {
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	h := Header{
		Length:     int32(binary.LittleEndian.Uint32(hdr[0:])),
		RequestID:  int32(binary.LittleEndian.Uint32(hdr[4:])),
		ResponseTo: int32(binary.LittleEndian.Uint32(hdr[8:])),
		OpCode:     int32(binary.LittleEndian.Uint32(hdr[12:])),
	}
	if h.Length < HeaderLen || h.Length > MaxMessageSize {
		return nil, protocolErr("message length %d out of range", h.Length)
	}
	body := make([]byte, h.Length-HeaderLen)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return &Message{Header: h, Body: body}, nil
}

// Section is a kind-1 document sequence of an OP_MSG.
type Section struct {
	Identifier string
	Documents  [][]byte // each a complete BSON document, aliasing the message body
}

// Msg is a parsed OP_MSG.
type Msg struct {
	Flags     uint32
	Body      []byte // the kind-0 section: the command document
	Sequences []Section
}

// MoreToCome reports whether the sender expects no reply.
func (m *Msg) MoreToCome() bool { return m.Flags&FlagMoreToCome != 0 }

// ParseMsg parses the body of an OP_MSG. It verifies the CRC-32C checksum when one is
// present and rejects unknown required flag bits, as the protocol demands.
func ParseMsg(body []byte) (*Msg, error) {
	if len(body) < 5 {
		return nil, protocolErr("OP_MSG too short")
	}
	m := &Msg{Flags: binary.LittleEndian.Uint32(body)}
	if required := m.Flags & 0xffff; required&^(FlagChecksumPresent|FlagMoreToCome) != 0 {
		return nil, protocolErr("OP_MSG has unknown required flag bits 0x%x", required)
	}
	end := len(body)
	if m.Flags&FlagChecksumPresent != 0 {
		if end < 9 {
			return nil, protocolErr("OP_MSG too short for its checksum")
		}
		end -= 4
		// The checksum covers the header too, which the caller has already consumed;
		// VerifyChecksum checks it with the header. Here we only strip it.
	}
	pos := 4
	for pos < end {
		kind := body[pos]
		pos++
		switch kind {
		case 0:
			n, err := docLen(body[pos:end])
			if err != nil {
				return nil, err
			}
			if m.Body != nil {
				return nil, protocolErr("OP_MSG has more than one body section")
			}
			m.Body = body[pos : pos+n]
			pos += n
		case 1:
			if end-pos < 4 {
				return nil, protocolErr("truncated document sequence")
			}
			size := int(int32(binary.LittleEndian.Uint32(body[pos:])))
			if size < 5 || pos+size > end {
				return nil, protocolErr("document sequence size %d out of range", size)
			}
			seq := body[pos+4 : pos+size]
			pos += size
			nul := indexByte(seq, 0)
			if nul < 0 {
				return nil, protocolErr("unterminated document sequence identifier")
			}
			s := Section{Identifier: string(seq[:nul])}
			for rest := seq[nul+1:]; len(rest) > 0; {
				n, err := docLen(rest)
				if err != nil {
					return nil, err
				}
				s.Documents = append(s.Documents, rest[:n])
				rest = rest[n:]
			}
			m.Sequences = append(m.Sequences, s)
		default:
			return nil, protocolErr("unknown OP_MSG section kind %d", kind)
		}
	}
	if m.Body == nil {
		return nil, protocolErr("OP_MSG has no body section")
	}
	return m, nil
}

// VerifyChecksum checks the CRC-32C trailer of an OP_MSG that carries one.
func VerifyChecksum(msg *Message) error {
	if len(msg.Body) < 8 || binary.LittleEndian.Uint32(msg.Body)&FlagChecksumPresent == 0 {
		return nil
	}
	var hdr [HeaderLen]byte
	putHeader(hdr[:], msg.Header)
	crc := crc32.New(castagnoli)
	crc.Write(hdr[:])
	crc.Write(msg.Body[:len(msg.Body)-4])
	if crc.Sum32() != binary.LittleEndian.Uint32(msg.Body[len(msg.Body)-4:]) {
		return protocolErr("OP_MSG checksum mismatch")
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// docLen returns the length of the BSON document at the start of b, checking that it
// fits and is null-terminated.
func docLen(b []byte) (int, error) {
	if len(b) < 5 {
		return 0, protocolErr("truncated document")
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 5 || n > len(b) || b[n-1] != 0 {
		return 0, protocolErr("document length %d invalid", n)
	}
	return n, nil
}

// Query is a parsed legacy OP_QUERY.
type Query struct {
	Flags                int32
	FullCollectionName   string
	NumberToSkip         int32
	NumberToReturn       int32
	Query                []byte
	ReturnFieldsSelector []byte
}

// ParseQuery parses the body of an OP_QUERY.
func ParseQuery(body []byte) (*Query, error) {
	if len(body) < 4 {
		return nil, protocolErr("OP_QUERY too short")
	}
	q := &Query{Flags: int32(binary.LittleEndian.Uint32(body))}
	rest := body[4:]
	nul := indexByte(rest, 0)
	if nul < 0 {
		return nil, protocolErr("unterminated collection name")
	}
	q.FullCollectionName = string(rest[:nul])
	rest = rest[nul+1:]
	if len(rest) < 8 {
		return nil, protocolErr("OP_QUERY too short")
	}
	q.NumberToSkip = int32(binary.LittleEndian.Uint32(rest))
	q.NumberToReturn = int32(binary.LittleEndian.Uint32(rest[4:]))
	rest = rest[8:]
	n, err := docLen(rest)
	if err != nil {
		return nil, err
	}
	q.Query = rest[:n]
	rest = rest[n:]
	if len(rest) > 0 {
		if n, err = docLen(rest); err != nil {
			return nil, err
		}
		q.ReturnFieldsSelector = rest[:n]
		if len(rest) != n {
			return nil, protocolErr("trailing bytes after OP_QUERY")
		}
	}
	return q, nil
}

func putHeader(b []byte, h Header) {
	binary.LittleEndian.PutUint32(b[0:], uint32(h.Length))
	binary.LittleEndian.PutUint32(b[4:], uint32(h.RequestID))
	binary.LittleEndian.PutUint32(b[8:], uint32(h.ResponseTo))
	binary.LittleEndian.PutUint32(b[12:], uint32(h.OpCode))
}

// AppendMsg appends an OP_MSG with a single kind-0 section holding doc.
func AppendMsg(dst []byte, requestID, responseTo int32, flags uint32, doc []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderLen)...)
	dst = binary.LittleEndian.AppendUint32(dst, flags)
	dst = append(dst, 0)
	dst = append(dst, doc...)
	putHeader(dst[start:], Header{Length: int32(len(dst) - start), RequestID: requestID, ResponseTo: responseTo, OpCode: OpMsg})
	return dst
}

// AppendReply appends an OP_REPLY carrying docs.
func AppendReply(dst []byte, requestID, responseTo int32, docs ...[]byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderLen)...)
	dst = binary.LittleEndian.AppendUint32(dst, 0) // responseFlags
	dst = binary.LittleEndian.AppendUint64(dst, 0) // cursorID
	dst = binary.LittleEndian.AppendUint32(dst, 0) // startingFrom
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(docs)))
	for _, d := range docs {
		dst = append(dst, d...)
	}
	putHeader(dst[start:], Header{Length: int32(len(dst) - start), RequestID: requestID, ResponseTo: responseTo, OpCode: OpReply})
	return dst
}

package wire

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func doc(t testing.TB, d bson.D) []byte {
	b, err := bson.Marshal(d)
	require.NoError(t, err)
	return b
}

// buildMsg assembles an OP_MSG by hand: a body and one document sequence.
func buildMsg(t testing.TB, flags uint32, body []byte, ident string, seq ...[]byte) []byte {
	var payload []byte
	payload = binary.LittleEndian.AppendUint32(payload, flags)
	payload = append(payload, 0)
	payload = append(payload, body...)
	if ident != "" {
		var s []byte
		s = append(s, ident...)
		s = append(s, 0)
		for _, d := range seq {
			s = append(s, d...)
		}
		payload = append(payload, 1)
		payload = binary.LittleEndian.AppendUint32(payload, uint32(len(s)+4))
		payload = append(payload, s...)
	}
	msg := make([]byte, HeaderLen, HeaderLen+len(payload)+4)
	msg = append(msg, payload...)
	if flags&FlagChecksumPresent != 0 {
		msg = append(msg, 0, 0, 0, 0)
	}
	putHeader(msg, Header{Length: int32(len(msg)), RequestID: 7, OpCode: OpMsg})
	if flags&FlagChecksumPresent != 0 {
		sum := crc32.Checksum(msg[:len(msg)-4], castagnoli)
		binary.LittleEndian.PutUint32(msg[len(msg)-4:], sum)
	}
	return msg
}

func TestParseMsgWithSequence(t *testing.T) {
	body := doc(t, bson.D{{Key: "insert", Value: "c"}, {Key: "$db", Value: "test"}})
	d1 := doc(t, bson.D{{Key: "_id", Value: int32(1)}})
	d2 := doc(t, bson.D{{Key: "_id", Value: int32(2)}})
	raw := buildMsg(t, FlagChecksumPresent, body, "documents", d1, d2)

	m, err := ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, OpMsg, m.Header.OpCode)
	require.NoError(t, VerifyChecksum(m))
	msg, err := ParseMsg(m.Body)
	require.NoError(t, err)
	assert.Equal(t, body, msg.Body)
	require.Len(t, msg.Sequences, 1)
	assert.Equal(t, "documents", msg.Sequences[0].Identifier)
	assert.Equal(t, [][]byte{d1, d2}, msg.Sequences[0].Documents)

	raw[len(raw)-1] ^= 0xff
	m, err = ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.ErrorIs(t, VerifyChecksum(m), ErrProtocol)
}

func TestParseMsgRejects(t *testing.T) {
	body := doc(t, bson.D{{Key: "ping", Value: int32(1)}})
	cases := map[string][]byte{
		"unknown required flag": buildMsg(t, 1<<5, body, "")[HeaderLen:],
		"two bodies":            append(buildMsg(t, 0, body, "")[HeaderLen:], append([]byte{0}, body...)...),
		"unknown section kind":  append(buildMsg(t, 0, body, "")[HeaderLen:], 9),
		"no body":               {0, 0, 0, 0, 1, 5, 0, 0, 0, 0},
		"short":                 {0, 0},
		"bad doc length":        {0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0},
	}
	for name, b := range cases {
		_, err := ParseMsg(b)
		assert.ErrorIs(t, err, ErrProtocol, name)
	}
}

func TestReadMessageRejectsLength(t *testing.T) {
	var hdr [HeaderLen]byte
	putHeader(hdr[:], Header{Length: MaxMessageSize + 1, OpCode: OpMsg})
	_, err := ReadMessage(bytes.NewReader(hdr[:]))
	assert.ErrorIs(t, err, ErrProtocol)
	putHeader(hdr[:], Header{Length: 3, OpCode: OpMsg})
	_, err = ReadMessage(bytes.NewReader(hdr[:]))
	assert.ErrorIs(t, err, ErrProtocol)
}

func TestParseQuery(t *testing.T) {
	q := doc(t, bson.D{{Key: "isMaster", Value: int32(1)}})
	var body []byte
	body = binary.LittleEndian.AppendUint32(body, 0)
	body = append(body, "admin.$cmd\x00"...)
	body = binary.LittleEndian.AppendUint32(body, 0)
	body = binary.LittleEndian.AppendUint32(body, uint32(0xffffffff))
	body = append(body, q...)
	parsed, err := ParseQuery(body)
	require.NoError(t, err)
	assert.Equal(t, "admin.$cmd", parsed.FullCollectionName)
	assert.Equal(t, int32(-1), parsed.NumberToReturn)
	assert.Equal(t, q, parsed.Query)
	_, err = ParseQuery(body[:len(body)-1])
	assert.Error(t, err)
}

func TestAppendReplyAndMsg(t *testing.T) {
	d := doc(t, bson.D{{Key: "ok", Value: 1.0}})
	r := AppendReply(nil, 5, 9, d)
	m, err := ReadMessage(bytes.NewReader(r))
	require.NoError(t, err)
	assert.Equal(t, Header{Length: int32(len(r)), RequestID: 5, ResponseTo: 9, OpCode: OpReply}, m.Header)
	assert.Equal(t, d, m.Body[20:])

	r = AppendMsg(nil, 6, 10, 0, d)
	m, err = ReadMessage(bytes.NewReader(r))
	require.NoError(t, err)
	msg, err := ParseMsg(m.Body)
	require.NoError(t, err)
	assert.Equal(t, d, msg.Body)
}

func FuzzParseMsg(f *testing.F) {
	body := doc(f, bson.D{{Key: "insert", Value: "c"}})
	f.Add(buildMsg(f, 0, body, "documents", doc(f, bson.D{{Key: "a", Value: int32(1)}}))[HeaderLen:])
	f.Add(buildMsg(f, FlagChecksumPresent, body, "")[HeaderLen:])
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMsg(b)
		if err != nil {
			return
		}
		if len(m.Body) < 5 {
			t.Fatal("accepted a body shorter than a document")
		}
		for _, s := range m.Sequences {
			for _, d := range s.Documents {
				if len(d) < 5 || d[len(d)-1] != 0 {
					t.Fatal("accepted a malformed sequence document")
				}
			}
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x00admin.$cmd\x00\x00\x00\x00\x00\xff\xff\xff\xff\x05\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseQuery(b)
	})
}

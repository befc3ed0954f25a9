#include "control/protocol/reply_builder.h"

#include <algorithm>

namespace nvmove::proto {

Message make_reply(const Message &request, Status status, uint16_t granted_lifetime) {
  Message reply;
  reply.type = MessageType::RegistrationReply;
  reply.sequence = request.sequence;
  reply.status = status;
  reply.lifetime = is_accepted(status) ? std::min(granted_lifetime, request.lifetime) : 0;
  reply.vm_id = request.vm_id;
  reply.virtual_network = request.virtual_network;
  reply.timestamp_ns = request.timestamp_ns;
  return reply;
}

Message make_bad_sequence_reply(const Message &request, uint16_t expected_sequence) {
  Message reply = make_reply(request, Status::BadSequenceNumber, 0);
  reply.expected_sequence = expected_sequence;
  return reply;
}

bool is_reply_to(const Message &reply, const Message &request) {
  return reply.is_reply() && request.is_request() && reply.sequence == request.sequence &&
         request.timestamp_ns.has_value() && reply.timestamp_ns == request.timestamp_ns &&
         reply.vm_id == request.vm_id && reply.virtual_network == request.virtual_network;
}

}  // namespace nvmove::proto

// Asio's and Beast's non-template code, compiled once. Every target is built with
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION (root CMakeLists.txt), so
// the files that use them declare that code instead of compiling their own copy of it: the API
// server, the etcd and metadata clients, the CLI and their tests each spent most of their build
// time compiling the same Asio internals.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

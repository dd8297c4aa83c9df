#define BOOST_TEST_MODULE nexus
#include <boost/test/unit_test.hpp>

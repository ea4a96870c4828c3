
    }򙖇ed}
